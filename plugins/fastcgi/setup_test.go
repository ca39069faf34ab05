package fastcgi

import (
	"bytes"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gibbon/config"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ conf, line string }{
		{"[FASTCGI_SERVER]\n    ServerAddr 127.0.0.1:9000\n", "1"},
		{"[FASTCGI_SERVER]\n    ServerName php\n", "1"},
		{"[FASTCGI_SERVER]\n    ServerName php\n    ServerAddr nowhere\n", "3"},
		{"[FASTCGI_SERVER]\n    ServerName php\n    ServerPath relative.sock\n", "3"},
		{"[FASTCGI_SERVER]\n    ServerName php\n    ServerAddr 127.0.0.1:1\n    ServerPath /x.sock\n", "4"},
		{"[FASTCGI_SERVER]\n    ServerName php\n    ServerPath /x.sock\n    MaxConnections 0\n", "4"},
		{"[FASTCGI_SERVER]\n    ServerName php\n    ServerPath /x.sock\n    KeepAlive maybe\n", "4"},
		{"[FASTCGI_SERVER]\n    ServerName php\n    ServerPath /x.sock\n    ReadTimeout never\n", "4"},
		{"[FASTCGI_SERVER]\n    ServerName php\n    ServerPath /x.sock\n    Extensions php\n", "4"},
		{"[FASTCGI_SERVER]\n    ServerName php\n    ServerPath /x.sock\n    Colour red\n", "4"},
		{"[FASTCGI_SERVER]\n    ServerName a\n    ServerPath /x.sock\n[FASTCGI_SERVER]\n    ServerName a\n    ServerPath /y.sock\n", "4"},
		{"[FASTCGI_LOCATION]\n    Match /x\n", "1"},
	} {
		cfg := stagetest.Config(t, map[string]string{
			"plugins.load":                 "[PLUGINS]\n    Load fastcgi\n",
			"plugins/fastcgi/fastcgi.conf": tc.conf,
		})
		_, err := stage.Load(cfg, stage.Env{})
		if errs := config.Errors(err); len(errs) != 1 || strings.TrimSpace(tc.line) != itoa(errs[0].Line) {
			t.Errorf("%q: error %v, want one at line %s", tc.conf, err, tc.line)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestRuleParams(t *testing.T) {
	t.Parallel()
	conf := "[FASTCGI_SERVER]\n    ServerName a\n    ServerPath /a.sock\n[FASTCGI_SERVER]\n    ServerName b\n    ServerAddr 127.0.0.1:9000\n"
	for rule, ok := range map[string]bool{
		"Match /.*\\.php fastcgi":     true,
		"Match /.*\\.php fastcgi a":   true,
		"Match /.*\\.php fastcgi a b": true,
		"Match /.*\\.php fastcgi c":   false,
	} {
		cfg := stagetest.Config(t, map[string]string{
			"plugins.load":                 "[PLUGINS]\n    Load fastcgi\n",
			"plugins/fastcgi/fastcgi.conf": conf,
			"sites/default":                "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n    " + rule + "\n",
		})
		p, err := stage.Load(cfg, stage.Env{})
		if (err == nil) != ok {
			t.Errorf("%q: err %v, want ok=%v", rule, err, ok)
		}
		if err == nil {
			p.Cleanup()
		}
	}
	cfg := stagetest.Config(t, map[string]string{
		"plugins.load":  "[PLUGINS]\n    Load fastcgi\n",
		"sites/default": "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n    Match x fastcgi\n",
	})
	if _, err := stage.Load(cfg, stage.Env{}); err == nil {
		t.Error("a rule without any [FASTCGI_SERVER] loaded")
	}
}

// syncBuffer is a log sink for tests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStderrLogged(t *testing.T) {
	t.Parallel()
	line := fakeBackend(t, paramsBackend)
	cfg := stagetest.Config(t, map[string]string{
		"plugins.load":                 "[PLUGINS]\n    Load fastcgi\n",
		"plugins/fastcgi/fastcgi.conf": serverConf("fake", line),
		"sites/default":                "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n    Match \\.php$ fastcgi\n",
		"htdocs/x.php":                 "",
	})
	var logs syncBuffer
	p, err := stage.Load(cfg, stage.Env{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	must(t, err)
	defer p.Cleanup()
	if _, err := get(t, p, "GET", "/x.php", ""); err != nil {
		t.Fatal(err)
	}
	if s := logs.String(); !strings.Contains(s, `msg="fastcgi stderr"`) || !strings.Contains(s, `text="PHP Notice: test"`) ||
		!strings.Contains(s, "plugin=fastcgi") || !strings.Contains(s, "script=/x.php") {
		t.Errorf("log: %s", s)
	}
}
