package auth

import (
	"strings"
	"testing"

	"gibbon/config"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, site string }{
		{"missing users", "[AUTH]\n    Location /a\n    Title x\n"},
		{"missing location", "[AUTH]\n    Title x\n    Users u\n"},
		{"twice", "[AUTH]\n    Location /a\n    Location /b\n    Title x\n    Users u\n"},
		{"relative location", "[AUTH]\n    Location a\n    Title x\n    Users u\n"},
		{"quote in realm", "[AUTH]\n    Location /a\n    Title a\"b\n    Users u\n"},
		{"unknown key", "[AUTH]\n    Location /a\n    Title x\n    Users u\n    Realm y\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := stagetest.Config(t, map[string]string{
				"plugins.load":  "[PLUGINS]\n    Load auth\n",
				"sites/default": "[HOST]\n    DocumentRoot htdocs\n" + tc.site,
			})
			_, err := stage.Load(cfg, stage.Env{})
			if errs := config.Errors(err); len(errs) != 1 || errs[0].Line < 3 {
				t.Errorf("error %v, want one *config.Error in the [AUTH] section", err)
			}
		})
	}
}

func TestUsersFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, users string
		line        int
		msg         string // if set, the error contains it
	}{
		{"no colon", "alice\n", 1, ""},
		{"bad sha", "# c\nalice:{SHA}abc\n", 2, ""},
		{"bad bcrypt", "alice:$2y$xx\n", 1, ""},
		{"bcrypt too short", "# c\n\nbob:$2y$04$abcdefghijklmnopqrstuu\n", 3, "too short"},
		{"bcrypt salt not base64", "bob:$2y$04$abcdm\x92fghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\n", 1, "53 characters"},
		{"bcrypt cost over 17", "bob:$2y$24$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0\n", 1, "cost 24 is over 17"},
		{"plain", "alice:secret\n", 1, ""},
		{"duplicate", "a:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\na:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n", 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseUsers("users", []byte(tc.users))
			if errs := config.Errors(err); len(errs) != 1 || errs[0].Line != tc.line || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want one at line %d saying %q", err, tc.line, tc.msg)
			}
		})
	}
}

func TestMissingUsersFile(t *testing.T) {
	t.Parallel()
	cfg := stagetest.Config(t, map[string]string{
		"plugins.load":  "[PLUGINS]\n    Load auth\n",
		"sites/default": "[HOST]\n    DocumentRoot htdocs\n[AUTH]\n    Location /a\n    Title x\n    Users nosuch\n",
	})
	_, err := stage.Load(cfg, stage.Env{})
	if errs := config.Errors(err); len(errs) != 1 || errs[0].Line != 6 {
		t.Errorf("error %v, want one at the Users line (6)", err)
	}
}
