package mandril_test

import (
	"testing"

	_ "gibbon/plugins/mandril"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

func load(t *testing.T, rules string) *stage.Pipeline {
	t.Helper()
	return stagetest.Load(t, map[string]string{
		"plugins.load":                 "[PLUGINS]\n    Load /usr/lib/monkey/monkey-mandril.so\n",
		"plugins/mandril/mandril.conf": "[RULES]\n" + rules,
	})
}

func TestAccept(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, rules, remote string
		want                stage.Verdict
	}{
		{"no rules", "", "10.0.0.1:1", stage.Continue},
		{"deny v4 net", "    IP 10.20.1.1/24\n", "10.20.1.77:1", stage.Close},
		{"deny v4 outside", "    IP 10.20.1.1/24\n", "10.20.2.1:1", stage.Continue},
		{"deny v4 mapped", "    IP 10.20.1.0/24\n", "[::ffff:10.20.1.5]:1", stage.Close},
		{"deny single", "    IP 192.168.3.150\n", "192.168.3.150:9", stage.Close},
		{"deny v6", "    IP 2001:db8::/32\n", "[2001:db8::7]:1", stage.Close},
		{"allow list in", "    Allow 127.0.0.0/8\n", "127.0.0.1:1", stage.Continue},
		{"allow list out", "    Allow 127.0.0.0/8\n", "10.0.0.1:1", stage.Close},
		{"deny beats allow", "    Allow 10.0.0.0/8\n    IP 10.1.0.0/16\n", "10.1.2.3:1", stage.Close},
		{"allow v6", "    Allow ::1\n", "[::1]:1", stage.Continue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := load(t, tc.rules)
			if got := p.Accept(stagetest.Conn(tc.remote)); got != tc.want {
				t.Errorf("Accept(%s) = %v, want %v", tc.remote, got, tc.want)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	t.Parallel()
	rules := "    URL /private\n    URL .GIT/\n    deny_hotlink /img/\n"
	tests := []struct {
		name, target string
		headers      []string
		want         int // 0: passes
	}{
		{"plain", "/index.html", nil, 0},
		{"url", "/private/a", nil, 403},
		{"url any case", "/PriVate", nil, 403},
		{"url encoded", "/%70rivate/", nil, 403},
		{"url after dot-dot", "/x/../private", nil, 403},
		{"url inside", "/repo/.git/config", nil, 403},
		{"hotlink none", "/img/a.png", nil, 0},
		{"hotlink same site", "/img/a.png", []string{"Host: example.com", "Referer: http://EXAMPLE.com:8080/page"}, 0},
		{"hotlink other site", "/img/a.png", []string{"Host: example.com", "Referer: https://evil.test/"}, 403},
		{"hotlink bad referer", "/img/a.png", []string{"Host: example.com", "Referer: ::"}, 403},
		{"hotlink other path", "/doc/a.png", []string{"Host: example.com", "Referer: https://evil.test/"}, 0},
		{"hotlink v6 host", "/img/a", []string{"Host: [::1]:80", "Referer: http://[::1]/"}, 0},
	}
	p := load(t, rules)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := stage.NewRecorder()
			r := stagetest.NewRequest(p.Hosts()[0].VHost, "GET", tc.target, tc.headers...)
			v := p.Request(w, r)
			switch {
			case tc.want == 0 && v != stage.Continue:
				t.Errorf("verdict %v, want continue", v)
			case tc.want != 0 && (v != stage.Handled || w.Code != tc.want || !w.Standard):
				t.Errorf("verdict %v status %d standard %v, want handled %d", v, w.Code, w.Standard, tc.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	d := load(t, "").Describe()
	for _, want := range []string{"stage 10 accept: mandril\n", "stage 20 request: mandril\n"} {
		if !contains(d, want) {
			t.Errorf("Describe lacks %q:\n%s", want, d)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
