package proxy_test

import (
	"strings"
	"testing"

	"gibbon/config"
	"gibbon/plugins/proxy"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	const srv = "    Server a 127.0.0.1:1\n"
	tests := []struct {
		name, conf, site string
		line             int // of the error, in proxy.conf or in the site file
	}{
		{"unknown section", "[BACKEND]\n    Name x\n", "", 1},
		{"missing name", "[UPSTREAM]\n" + srv, "", 1},
		{"missing server", "[UPSTREAM]\n    Name app\n", "", 1},
		{"bad name", "[UPSTREAM]\n    Name a/b\n" + srv, "", 2},
		{"unknown key", "[UPSTREAM]\n    Name app\n" + srv + "    Mode http\n", "", 4},
		{"twice", "[UPSTREAM]\n    Name app\n    Retries 1\n    Retries 2\n" + srv, "", 4},
		{"bad balance", "[UPSTREAM]\n    Name app\n    Balance fastest\n" + srv, "", 3},
		{"url_param without name", "[UPSTREAM]\n    Name app\n    Balance url_param\n" + srv, "", 3},
		{"param on roundrobin", "[UPSTREAM]\n    Name app\n    Balance roundrobin x\n" + srv, "", 3},
		{"server without address", "[UPSTREAM]\n    Name app\n    Server a\n", "", 3},
		{"server bad address", "[UPSTREAM]\n    Name app\n    Server a localhost\n", "", 3},
		{"server bad port", "[UPSTREAM]\n    Name app\n    Server a h:99999\n", "", 3},
		{"server bad weight", "[UPSTREAM]\n    Name app\n    Server a h:1 weight=300\n", "", 3},
		{"server bad option", "[UPSTREAM]\n    Name app\n    Server a h:1 maxconn=3\n", "", 3},
		{"server bad proto", "[UPSTREAM]\n    Name app\n    Server a h:1 proto=h3\n", "", 3},
		{"server twice", "[UPSTREAM]\n    Name app\n" + srv + srv, "", 4},
		{"check flag without Check", "[UPSTREAM]\n    Name app\n    Server a h:1 check\n", "", 1},
		{"check path", "[UPSTREAM]\n    Name app\n    Check health\n" + srv, "", 3},
		{"check option", "[UPSTREAM]\n    Name app\n    Check /h timeout=1s\n" + srv, "", 3},
		{"check rise", "[UPSTREAM]\n    Name app\n    Check /h rise=0\n" + srv, "", 3},
		{"check status", "[UPSTREAM]\n    Name app\n    Check /h status=2xx,abc\n" + srv, "", 3},
		{"check status range", "[UPSTREAM]\n    Name app\n    Check /h status=300-200\n" + srv, "", 3},
		{"bad duration", "[UPSTREAM]\n    Name app\n    ConnectTimeout soon\n" + srv, "", 3},
		{"zero response timeout", "[UPSTREAM]\n    Name app\n    ResponseTimeout 0\n" + srv, "", 3},
		{"negative retries", "[UPSTREAM]\n    Name app\n    Retries -1\n" + srv, "", 3},
		{"redispatch", "[UPSTREAM]\n    Name app\n    Redispatch yes\n" + srv, "", 3},
		{"duplicate upstream", "[UPSTREAM]\n    Name app\n" + srv + "[UPSTREAM]\n    Name app\n" + srv, "", 4},
		{"unknown upstream", "[UPSTREAM]\n    Name app\n" + srv, "[HANDLERS]\n    Match ^/ proxy other\n", 4},
		{"no upstream param", "[UPSTREAM]\n    Name app\n" + srv, "[HANDLERS]\n    Match ^/ proxy\n", 4},
		{"stats key", "", "[PROXY]\n    Stats /s\n", 4},
		{"stats path", "", "[PROXY]\n    StatsURI stats\n", 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := stagetest.Config(t, map[string]string{
				"plugins.load":             "[PLUGINS]\n    Load proxy\n",
				"plugins/proxy/proxy.conf": tc.conf,
				"sites/default":            "[HOST]\n    DocumentRoot htdocs\n" + tc.site,
			})
			_, err := stage.Load(cfg, stage.Env{})
			errs := config.Errors(err)
			if len(errs) != 1 || errs[0].Line != tc.line {
				t.Errorf("error %v, want one *config.Error at line %d", err, tc.line)
			}
		})
	}
}

func TestDecodeFull(t *testing.T) {
	t.Parallel()
	conf := `[UPSTREAM]
    Name    app
    Balance url_param session
    Server  web1 127.0.0.1:1 weight=3 check
    Server  web2 127.0.0.1:2 check proto=h2c
    Server  spare 127.0.0.1:3 backup
    Check   /health interval=1h rise=3 fall=4 status=200,204,3xx,400-404
    ConnectTimeout  250ms
    ResponseTimeout 30
    IdleTimeout     1m
    Retries    2
    Redispatch off
    MaxIdleConns 4
    DownTime 5s

[UPSTREAM]
    Name other
    Server x [::1]:8080
`
	p, px := load(t, conf)
	st := px.Snapshot()
	if len(st.Upstreams) != 2 || st.Upstreams[0].Balance != "url_param session" || st.Upstreams[1].Balance != "roundrobin" {
		t.Fatalf("upstreams %+v", st.Upstreams)
	}
	s := st.Upstreams[0].Servers
	if len(s) != 3 || s[0].Weight != 3 || !s[0].Checked || s[1].Proto != "h2c" || !s[2].Backup || s[2].Checked {
		t.Errorf("servers %+v", s)
	}
	if d := p.Describe(); !strings.Contains(d, "proxy app (blocking)") || !strings.Contains(d, "stage 20 request: proxy") {
		t.Errorf("Describe:\n%s", d)
	}
}

func TestBalanceString(t *testing.T) {
	t.Parallel()
	for b, want := range map[proxy.Balance]string{proxy.RoundRobin: "roundrobin", proxy.StaticRR: "static-rr",
		proxy.URLParam: "url_param", proxy.Random: "random", proxy.Balance(99): "Balance(99)"} {
		if b.String() != want {
			t.Errorf("%d: %q, want %q", b, b.String(), want)
		}
	}
}
