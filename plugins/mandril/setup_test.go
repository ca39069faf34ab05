package mandril

import (
	"strings"
	"testing"

	"gibbon/config"
	"gibbon/stage"
)

func decode(t *testing.T, text string) (*Mandril, error) {
	t.Helper()
	secs, _, err := config.Parse("mandril.conf", []byte(text))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	m := new(Mandril)
	return m, m.Decode(&stage.PluginConfig{Name: "mandril", Sections: secs})
}

func TestDecode(t *testing.T) {
	t.Parallel()
	m, err := decode(t, "[RULES]\n    IP 10.20.1.1/24\n    ip 2001:db8::1\n    Allow ::ffff:192.168.0.0/112\n    URL /Private\n    deny_hotlink /img/\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.deny[0].String(); got != "10.20.1.0/24" {
		t.Errorf("deny[0] = %s, want 10.20.1.0/24", got)
	}
	if got := m.deny[1].String(); got != "2001:db8::1/128" {
		t.Errorf("deny[1] = %s", got)
	}
	if got := m.allow[0].String(); got != "192.168.0.0/16" {
		t.Errorf("allow[0] = %s, want the unmapped 192.168.0.0/16", got)
	}
	if m.urls[0] != "/private" || m.hotlink[0] != "/img/" {
		t.Errorf("urls %v hotlink %v", m.urls, m.hotlink)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, text := range []string{
		"[RULES]\n    IP 10.1.2\n",
		"[RULES]\n    IP 10.0.0.0/33\n",
		"[RULES]\n    Deny 10.0.0.1\n",
		"[RULES]\n    deny_hotlink images\n",
		"[RULES]\n    URL /a\n[OTHER]\n    URL /b\n",
	} {
		_, err := decode(t, text)
		errs := config.Errors(err)
		if len(errs) != 1 || errs[0].Line < 2 {
			t.Errorf("%q: error %v, want one located *config.Error", text, err)
		}
		if err != nil && !strings.Contains(err.Error(), "mandril.conf:") {
			t.Errorf("%q: error %q does not name the file", text, err)
		}
	}
}
