package cgi_test

import (
	"testing"

	"gibbon/config"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, conf := range []string{
		"[CGI]\n    TimeLimit soon\n",
		"[CGI]\n    TimeLimit -1\n",
		"[CGI]\n    MaxProcesses 0\n",
		"[CGI]\n    QueueTimeout x\n",
		"[CGI]\n    Colour red\n",
	} {
		cfg := stagetest.Config(t, map[string]string{
			"plugins.load":         "[PLUGINS]\n    Load cgi\n",
			"plugins/cgi/cgi.conf": conf,
		})
		_, err := stage.Load(cfg, stage.Env{})
		if errs := config.Errors(err); len(errs) != 1 || errs[0].Line != 2 {
			t.Errorf("%q: error %v, want one at line 2", conf, err)
		}
	}
}

func TestRuleParams(t *testing.T) {
	t.Parallel()
	for rule, ok := range map[string]bool{
		"Match ^/cgi-bin/ cgi":                          true,
		"Match \\.php$ cgi /usr/bin/php-cgi":            true,
		"Match \\.pl$ cgi /usr/bin/perl text/html":      true,
		"Match \\.x$ cgi - text/plain":                  true,
		"Match \\.pl$ cgi perl":                         false,
		"Match \\.pl$ cgi /usr/bin/perl html":           false,
		"Match \\.pl$ cgi /usr/bin/perl text/html more": false,
	} {
		cfg := stagetest.Config(t, map[string]string{
			"plugins.load":  "[PLUGINS]\n    Load cgi\n",
			"sites/default": "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n    " + rule + "\n",
		})
		p, err := stage.Load(cfg, stage.Env{})
		if (err == nil) != ok {
			t.Errorf("%q: err %v, want ok=%v", rule, err, ok)
		}
		if err == nil {
			if !p.Hosts()[0].Rules[0].Handler.Blocking() {
				t.Errorf("%q: handler not blocking", rule)
			}
			p.Cleanup()
		}
	}
}
