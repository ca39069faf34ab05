package stage_test

// This file is the example plugin of docs/PLUGINS.md: "greeting" answers
// the paths its [HANDLERS] rules send it with a configured text, and tags
// every response with an X-Greeting header. A real plugin lives in
// plugins/greeting/ with setup.go (init, Decode) and greeting.go (hooks).

import (
	"strings"
	"testing"

	"gibbon/stage"
	"gibbon/stage/stagetest"
)

func init() { stage.Register("greeting", func() stage.Plugin { return new(Greeting) }) }

// Greeting is the plugin value; New (the func above) has no side effects.
type Greeting struct {
	text string
}

// Decode reads [GREETING] in plugins/greeting/greeting.conf.
func (g *Greeting) Decode(c *stage.PluginConfig) error {
	g.text = "hello"
	for _, sec := range c.Find("GREETING") {
		for _, e := range sec.Entries {
			switch {
			case strings.EqualFold(e.Key, "Text"):
				g.text = e.Value
			default:
				return stage.UnknownKey(e, "GREETING") // file:line in the error
			}
		}
	}
	return nil
}

// OnRequest (stage 20) adds a header and lets the request go on.
func (g *Greeting) OnRequest(w stage.ResponseWriter, r *stage.Request) stage.Verdict {
	w.Header().Set("X-Greeting", g.text)
	return stage.Continue
}

// ServeGibbon (stage 30) answers the request.
func (g *Greeting) ServeGibbon(w stage.ResponseWriter, r *stage.Request) error {
	if r.Query == "fail" {
		return stage.Error(503, nil) // the server renders its 503 page
	}
	return w.Respond(200, "text/plain; charset=utf-8", []byte(g.text+", "+r.Path+"\n"))
}

// Blocking is false: the handler does no I/O, it may run on the event loop.
func (g *Greeting) Blocking() bool { return false }

var (
	_ stage.RequestFilter = (*Greeting)(nil)
	_ stage.Handler       = (*Greeting)(nil)
)

func TestExamplePlugin(t *testing.T) {
	t.Parallel()
	p := stagetest.Load(t, map[string]string{
		"plugins.load":                   "[PLUGINS]\n    Load greeting\n",
		"plugins/greeting/greeting.conf": "[GREETING]\n    Text good morning\n",
		"sites/default":                  "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n    Match ^/hello greeting\n",
	})
	w := stage.NewRecorder()
	r := stagetest.NewRequest(p.Hosts()[0].VHost, "GET", "/hello/world")
	if v := p.Request(w, r); v != stage.Continue {
		t.Fatalf("verdict %v", v)
	}
	rule := p.Route(r)
	if rule == nil || rule.Plugin != "greeting" {
		t.Fatalf("route %v", rule)
	}
	if err := rule.Serve(w, r); err != nil {
		t.Fatal(err)
	}
	if w.Code != 200 || w.Body.String() != "good morning, /hello/world\n" || w.Fields.Get("X-Greeting") != "good morning" {
		t.Errorf("response %d %q %v", w.Code, w.Body.String(), w.Fields.Fields())
	}
	r = stagetest.NewRequest(p.Hosts()[0].VHost, "GET", "/hello?fail")
	err := p.Route(r).Serve(stage.NewRecorder(), r)
	if stage.StatusOf(err) != 503 || !strings.HasPrefix(err.Error(), "greeting: 503") {
		t.Errorf("error %v, want greeting: 503", err)
	}
	if p.Route(stagetest.NewRequest(p.Hosts()[0].VHost, "GET", "/other")) != nil {
		t.Error("/other must go to the core")
	}
}
