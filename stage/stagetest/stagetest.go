package stagetest

import (
	"errors"
	"net/netip"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gibbon/config"
	"gibbon/http1"
	"gibbon/stage"
)

// Config writes files (path relative to the config directory → content)
// into a new temporary directory and loads it with config.Load. A missing
// gibbon.conf gets "[SERVER] Listen 0" and a missing sites/default gets a
// default host serving htdocs/ (created). A value may use "$DIR" for the
// config directory.
func Config(t testing.TB, files map[string]string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files["gibbon.conf"]; !ok {
		write(t, dir, "gibbon.conf", "[SERVER]\n    Listen 0\n")
	}
	if _, ok := files["sites/default"]; !ok {
		write(t, dir, "sites/default", "[HOST]\n    DocumentRoot htdocs\n")
	}
	if err := os.MkdirAll(filepath.Join(dir, "htdocs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		write(t, dir, name, strings.ReplaceAll(text, "$DIR", dir))
	}
	cfg, err := config.Load(dir, "")
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	return cfg
}

func write(t testing.TB, dir, name, text string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Load builds the configuration with [Config] and loads its Pipeline,
// failing the test on error. The Pipeline is cleaned up when the test ends.
func Load(t testing.TB, files map[string]string) *stage.Pipeline {
	t.Helper()
	p, err := stage.Load(Config(t, files), stage.Env{})
	if err != nil {
		t.Fatalf("stage.Load: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Cleanup(); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
	})
	return p
}

// Conn returns a ConnInfo from remote (an "ip:port" address).
func Conn(remote string) stage.ConnInfo {
	return stage.ConnInfo{
		ID:       1,
		Remote:   netip.MustParseAddrPort(remote),
		Local:    netip.MustParseAddrPort("127.0.0.1:2001"),
		Accepted: time.Now(),
	}
}

// NewRequest returns a request as the server fills it for method and
// target on vh, from 192.0.2.1:1234. headers are "Name: value" lines; the
// Host header sets Host. The path is decoded and cleaned (approximately
// as static.CleanPath does; tests should use simple paths).
func NewRequest(vh *stage.VHost, method, target string, headers ...string) *stage.Request {
	r := &stage.Request{
		MethodName: []byte(method),
		Method:     methodOf(method),
		Proto:      http1.Version11,
		Target:     []byte(target),
		VHost:      vh,
		Conn:       Conn("192.0.2.1:1234"),
		Start:      time.Now(),
	}
	p, q, _ := strings.Cut(target, "?")
	if dec, err := url.PathUnescape(p); err == nil {
		p = dec
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	r.Path, r.Query = clean, q
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		value = strings.TrimSpace(value)
		r.Headers = append(r.Headers, http1.Header{Name: []byte(name), Value: []byte(value)})
		if strings.EqualFold(name, "Host") {
			r.Host = []byte(value)
		}
	}
	return r
}

func methodOf(m string) http1.Method {
	for x := http1.MethodGet; x <= http1.MethodPatch; x++ {
		if x.String() == m {
			return x
		}
	}
	return http1.MethodUnknown
}

// NewRequestBody is [NewRequest] with body as the request's Body ("" for
// none) and, unless headers carry a Transfer-Encoding, its Content-Length.
func NewRequestBody(vh *stage.VHost, method, target, body string, headers ...string) *stage.Request {
	if body != "" && !hasHeader(headers, "Transfer-Encoding") {
		headers = append(headers, "Content-Length: "+strconv.Itoa(len(body)))
	}
	r := NewRequest(vh, method, target, headers...)
	if body != "" {
		r.Body = strings.NewReader(body)
	}
	return r
}

func hasHeader(hs []string, name string) bool {
	for _, h := range hs {
		if k, _, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// Serve serves r with the rule route finds for it (the test fails if there
// is none), following internal redirects as the server does: the request
// becomes a GET without a body for the new target, at most
// stage.MaxInternalRedirects times.
func Serve(t testing.TB, route func(*stage.Request) *stage.Rule, w stage.ResponseWriter, r *stage.Request) error {
	t.Helper()
	for i := 0; ; i++ {
		rule := route(r)
		if rule == nil {
			t.Fatalf("no rule for %s", r.Path)
		}
		err := rule.Serve(w, r)
		var ir *stage.InternalRedirect
		if !errors.As(err, &ir) {
			return err
		}
		if i == stage.MaxInternalRedirects {
			return stage.Error(500, errors.New("too many internal redirects"))
		}
		r.Rewrite(ir.Path, ir.Query)
		r.Method, r.MethodName, r.Body = http1.MethodGet, []byte("GET"), nil
	}
}
