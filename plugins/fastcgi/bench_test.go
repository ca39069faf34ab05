package fastcgi

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"testing"

	"gibbon/internal/loopback"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

// flushRecorder is a stage.ResponseRecorder that is also a
// stage.Flusher, as the server's streaming writer is; it counts flushes
// and, unlike stagetest.StreamRecorder, copies nothing on Flush, so that
// a benchmark measures the plugin's own work.
type flushRecorder struct {
	stage.ResponseRecorder
	flushes int
}

func (w *flushRecorder) Flush() error {
	w.flushes++
	return nil
}

// rawBackend answers every request (up to its empty STDIN record) on a
// kept-alive connection with a fixed answer in one write, as php-fpm does
// for a small script, allocating next to nothing.
func rawBackend(tb testing.TB) string {
	tb.Helper()
	var buf bytes.Buffer
	rw := newRecordWriter(&buf)
	rw.write(typeStdout, requestID, []byte("Content-type: text/html; charset=UTF-8\r\n\r\nHello, World!"))
	rw.write(typeStdout, requestID, nil)
	rw.write(typeEndRequest, requestID, make([]byte, 8))
	rw.flush()
	answer := buf.Bytes()
	return "ServerAddr " + loopback.Serve(tb, func(c net.Conn) {
		rr := newRecordReader(c)
		for {
			h, content, err := rr.next()
			if err != nil {
				return
			}
			if h.Type == typeStdin && len(content) == 0 {
				if _, err := c.Write(answer); err != nil {
					return
				}
			}
		}
	})
}

// BenchmarkGet is the handler path of one GET over a kept-alive FastCGI
// connection to a backend that answers at once (go test -run XXX -bench
// Get -benchmem ./plugins/fastcgi).
func BenchmarkGet(b *testing.B) {
	cfg := stagetest.Config(b, map[string]string{
		"plugins.load":                 "[PLUGINS]\n    Load fastcgi\n",
		"plugins/fastcgi/fastcgi.conf": serverConf("raw", rawBackend(b), "MaxConnections 1"),
		"sites/default":                "[HOST]\n    DocumentRoot htdocs\n[HANDLERS]\n    Match /.*\\.php fastcgi\n",
	})
	must(b, os.MkdirAll(cfg.Hosts[0].DocumentRoot, 0o755))
	must(b, os.WriteFile(filepath.Join(cfg.Hosts[0].DocumentRoot, "hello.php"), nil, 0o644))
	p, err := stage.Load(cfg, stage.Env{})
	must(b, err)
	b.Cleanup(func() { p.Cleanup() })
	r := stagetest.NewRequest(p.Hosts()[0].VHost, "GET", "/hello.php", "Host: localhost", "User-Agent: wrk", "Accept: */*")
	r.Conn = stagetest.Conn("127.0.0.1:40000")
	rule := p.Route(r)
	w := new(flushRecorder)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w.Reset()
		if err := rule.Serve(w, r); err != nil || w.Code != 200 || w.Body.String() != "Hello, World!" {
			b.Fatalf("got %d %q %v", w.Code, w.Body.String(), err)
		}
	}
}
