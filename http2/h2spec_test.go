package http2_test

import (
	"net"
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// TestH2Spec runs h2spec (all cases, strict ones included (-S), h2c and
// h2 over TLS via tlsx) against the test driver and
// requires every case to pass.
func TestH2Spec(t *testing.T) {
	bin, err := exec.LookPath("h2spec")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("h2spec not installed: go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible")
		}
		t.Skip("h2spec not on PATH")
	}
	for _, mode := range []string{"h2c", "tls"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{"-h", "127.0.0.1", "-P", "/h2spec/conformance", "-S", "-o", "3"}
			var addr string
			if mode == "tls" {
				addr = startTLSServer(t, nil)
				args = append(args, "-t", "-k")
			} else {
				addr = startServer(t, nil)
			}
			_, port, _ := net.SplitHostPort(addr)
			out, err := exec.Command(bin, append(args, "-p", port)...).CombinedOutput()
			m := regexp.MustCompile(`(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed`).FindSubmatch(out)
			if m == nil {
				t.Fatalf("h2spec: %v\n%s", err, out)
			}
			t.Logf("h2spec %s: %s", mode, m[0])
			if string(m[4]) != "0" || err != nil {
				t.Fatalf("h2spec failures:\n%s", out)
			}
		})
	}
}
