package dirlisting

import (
	"testing"

	"gibbon/config"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, conf := range []string{
		"[DIRLISTING]\n    Theme ../x\n",
		"[DIRLISTING]\n    Theme missing\n",
		"[DIRLISTING]\n    JSON maybe\n",
		"[DIRLISTING]\n    Colour red\n",
	} {
		cfg := stagetest.Config(t, map[string]string{
			"plugins.load":                       "[PLUGINS]\n    Load dirlisting\n",
			"plugins/dirlisting/dirlisting.conf": conf,
		})
		_, err := stage.Load(cfg, stage.Env{})
		if errs := config.Errors(err); len(errs) != 1 || errs[0].Line != 2 {
			t.Errorf("%q: error %v, want one at line 2", conf, err)
		}
	}
}

func TestCompile(t *testing.T) {
	t.Parallel()
	tpl := compile("<a href=\"%_TARGET_URL_%\">%_target_name_%</a> %_unknown_% 100%_ %_")
	got := string(tpl.render(nil, func(tg tag) string {
		return map[tag]string{tagTargetURL: "u", tagTargetName: "n"}[tg]
	}))
	if want := `<a href="u">n</a> %_unknown_% 100%_ %_`; got != want {
		t.Errorf("render = %q, want %q", got, want)
	}
}

func TestHumanSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0b", 1023: "1023b", 1024: "1.0K", 1536: "1.5K", 10 << 20: "10.0M", 3 << 30: "3.0G"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
