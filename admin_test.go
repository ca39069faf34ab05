package gibbon_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"gibbon"
)

// TestAdminHandler asks every endpoint of the admin handler, on both
// drivers, after a few requests.
func TestAdminHandler(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, d gibbon.Driver) {
		srv := newServer(t, gibbon.Config{Workers: 2, Driver: d, Version: "9.9"})
		srv.HandleFunc("GET /hello", func(c *gibbon.Ctx) { c.String(200, "hello\n") })
		base := start(t, srv)
		for range 3 {
			get(t, http.DefaultClient, "GET", base+"/hello")
		}
		stopped := make(chan struct{}, 1)
		h := srv.AdminHandler(gibbon.AdminControl{Stop: func() { stopped <- struct{}{} }})
		ask := func(method, path string) *httptest.ResponseRecorder {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
			return rec
		}

		var status struct {
			Version   string `json:"version"`
			PID       int    `json:"pid"`
			Driver    string `json:"driver"`
			Listeners []struct {
				Addr string `json:"addr"`
			} `json:"listeners"`
			Totals struct {
				Requests  uint64            `json:"requests"`
				Responses map[string]uint64 `json:"responses"`
			} `json:"totals"`
		}
		if err := json.Unmarshal(ask("GET", "/status").Body.Bytes(), &status); err != nil {
			t.Fatal(err)
		}
		if status.Version != "9.9" || status.PID != os.Getpid() || status.Driver != d.String() ||
			len(status.Listeners) != 1 || status.Listeners[0].Addr != srv.Addr().String() ||
			status.Totals.Requests != 3 || status.Totals.Responses["2xx"] != 3 {
			t.Errorf("/status = %+v", status)
		}
		var workers []struct {
			Driver   string `json:"driver"`
			Requests uint64 `json:"requests"`
		}
		json.Unmarshal(ask("GET", "/workers").Body.Bytes(), &workers)
		var n uint64
		for _, w := range workers {
			n += w.Requests
		}
		if n != 3 || workers[len(workers)-1].Driver != "h2" {
			t.Errorf("/workers = %+v", workers)
		}
		if rec := ask("GET", "/conns?limit=-1"); rec.Code != 400 || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("/conns?limit=-1: %d %s", rec.Code, rec.Body)
		}
		if rec := ask("GET", "/conns?limit=5"); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"total"`) {
			t.Errorf("/conns: %d %s", rec.Code, rec.Body)
		}
		if rec := ask("GET", "/vhosts"); !strings.Contains(rec.Body.String(), `"default": true`) {
			t.Errorf("/vhosts: %s", rec.Body)
		}
		if rec := ask("GET", "/plugins"); !strings.Contains(rec.Body.String(), "stage 10 accept") {
			t.Errorf("/plugins: %s", rec.Body)
		}
		if rec := ask("GET", "/"); !strings.Contains(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), "setInterval") {
			t.Errorf("/: %s", rec.Header())
		}
		rec := ask("GET", "/metrics")
		parser := expfmt.NewTextParser(model.LegacyValidation)
		families, err := parser.TextToMetricFamilies(rec.Body)
		if err != nil {
			t.Fatalf("/metrics: %v", err)
		}
		var ok float64
		for _, m := range families["gibbon_responses_total"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "class" && l.GetValue() == "2xx" {
					ok += m.GetCounter().GetValue()
				}
			}
		}
		if ok != 3 {
			t.Errorf("gibbon_responses_total{class=2xx} = %v, want 3", ok)
		}
		if rec := ask("GET", "/reload"); rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("GET /reload: %d", rec.Code)
		}
		if rec := ask("POST", "/reload"); rec.Code != http.StatusNotImplemented {
			t.Errorf("POST /reload without AdminControl.Reload: %d", rec.Code)
		}
		if rec := ask("POST", "/stop"); rec.Code != http.StatusAccepted || len(stopped) != 1 {
			t.Errorf("POST /stop: %d, Stop called %d times", rec.Code, len(stopped))
		}
	})
}

// ListenAdmin replaces a stale socket, but not a live one nor a file that
// is not a socket.
func TestListenAdminSocket(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := filepath.Join(dir, "a.sock")
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close() // leaves the file, as a process that died would
	ln, err := gibbon.ListenAdmin("unix:" + sock)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	defer ln.Close()
	if _, err := gibbon.ListenAdmin("unix:" + sock); err == nil {
		t.Error("a second ListenAdmin on a live socket succeeded")
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := gibbon.ListenAdmin("unix:" + file); err == nil {
		t.Error("ListenAdmin replaced a regular file")
	}
}
