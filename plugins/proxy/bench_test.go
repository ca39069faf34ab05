package proxy_test

import (
	"bytes"
	"net"
	"testing"

	"gibbon/internal/loopback"
	"gibbon/plugins/proxy"
	"gibbon/stage"
	"gibbon/stage/stagetest"
)

// rawBackend answers every request head on a keep-alive connection with a
// fixed 13-byte response, allocating next to nothing, so that a benchmark
// measures the proxy's own work.
func rawBackend(tb testing.TB) string {
	tb.Helper()
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!")
	return loopback.Serve(tb, func(c net.Conn) {
		buf := make([]byte, 16<<10)
		n := 0
		for {
			m, err := c.Read(buf[n:])
			if err != nil {
				return
			}
			n += m
			for {
				i := bytes.Index(buf[:n], []byte("\r\n\r\n"))
				if i < 0 {
					break
				}
				if _, err := c.Write(resp); err != nil {
					return
				}
				n = copy(buf, buf[i+4:n])
			}
		}
	})
}

// BenchmarkProxyGet is the handler path of one proxied GET over a kept-alive
// upstream connection (go test -bench ProxyGet -benchmem ./plugins/proxy).
func BenchmarkProxyGet(b *testing.B) {
	addr := rawBackend(b)
	p := stagetest.Load(b, map[string]string{
		"plugins.load":             "[PLUGINS]\n    Load proxy\n",
		"plugins/proxy/proxy.conf": upstream("MaxIdleConns 64", "b "+addr),
		"sites/default":            site,
	})
	_ = p.Plugin("proxy").(*proxy.Proxy)
	r := stagetest.NewRequest(p.Hosts()[0].VHost, "GET", "/hello.txt",
		"Host: 127.0.0.1:8080", "User-Agent: wrk", "Accept: */*") // a port: Forwarded quotes the host
	r.Conn = stagetest.Conn("127.0.0.1:40000")
	rule := p.Route(r)
	w := stage.NewRecorder()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w.Reset()
		if err := rule.Serve(w, r); err != nil || w.Code != 200 {
			b.Fatalf("got %d %v", w.Code, err)
		}
	}
}
