package logger

import (
	"testing"

	"gibbon/config"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		line  int
	}{
		{"flush zero", map[string]string{"plugins/logger/logger.conf": "[LOGGER]\n    FlushTimeout 0\n"}, 2},
		{"flush unit", map[string]string{"plugins/logger/logger.conf": "[LOGGER]\n    FlushTimeout 3s\n"}, 2},
		{"bad format", map[string]string{"plugins/logger/logger.conf": "[LOGGER]\n    Format apache\n"}, 2},
		{"unknown key", map[string]string{"plugins/logger/logger.conf": "[LOGGER]\n    Flush 3\n"}, 2},
		{"unknown section", map[string]string{"plugins/logger/logger.conf": "[LOG]\n    FlushTimeout 3\n"}, 1},
		{"site key", map[string]string{"sites/default": "[HOST]\n    DocumentRoot htdocs\n[LOGGER]\n    AccesLog x\n"}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.files["plugins.load"] = "[PLUGINS]\n    Load logger\n"
			_, err := stage.Load(stagetest.Config(t, tc.files), stage.Env{})
			if errs := config.Errors(err); len(errs) != 1 || errs[0].Line != tc.line {
				t.Errorf("error %v, want one at line %d", err, tc.line)
			}
		})
	}
}
