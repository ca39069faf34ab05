package http2_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"testing"

	xhttp2 "golang.org/x/net/http2"
)

// h2cClient is x/net's HTTP/2 client speaking h2c with prior knowledge,
// its connections closed when the test ends. x/net deprecates its
// Transport in favour of net/http's, which bundles the same code; the
// issue asks for x/net's own.
func h2cClient(t *testing.T) *http.Client {
	//lint:ignore SA1019 x/net's client is the peer the issue names
	tr := &xhttp2.Transport{}
	//lint:ignore SA1019 as above
	tr.AllowHTTP = true
	//lint:ignore SA1019 as above
	tr.DialTLSContext = func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	c := &http.Client{Transport: tr}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestXNetClient(t *testing.T) {
	addr := startServer(t, nil)
	c := h2cClient(t)
	base := "http://" + addr

	t.Run("get", func(t *testing.T) {
		res, err := c.Get(base + "/hello?x=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(body) != "/hello?x=1" || res.ProtoMajor != 2 {
			t.Fatalf("got %d %q proto %d", res.StatusCode, body, res.ProtoMajor)
		}
	})
	t.Run("head", func(t *testing.T) {
		res, err := c.Head(base + "/head")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || len(body) != 0 || res.ContentLength != 5 {
			t.Fatalf("got %d %q len %d", res.StatusCode, body, res.ContentLength)
		}
	})
	t.Run("post-large", func(t *testing.T) {
		// 3 MiB is more than the stream and connection windows: the
		// upload only completes if consumed credit goes back.
		payload := bytes.Repeat([]byte("0123456789abcdef"), 3<<16)
		res, err := c.Post(base+"/upload", "application/octet-stream", bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if got := res.Header.Get("X-Received"); got != strconv.Itoa(len(payload)) {
			t.Fatalf("server received %s octets, want %d", got, len(payload))
		}
	})
	t.Run("get-large", func(t *testing.T) {
		// 5 MiB is more than the client's windows: the response only
		// completes if WriteData resumes on OnWritable.
		const n = 5 << 20
		res, err := c.Get(base + "/big/" + strconv.Itoa(n))
		if err != nil {
			t.Fatal(err)
		}
		k, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil || k != n {
			t.Fatalf("read %d octets, %v", k, err)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				path := fmt.Sprintf("/c/%d", i)
				res, err := c.Get(base + path)
				if err != nil {
					errs <- err
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if string(body) != path {
					errs <- fmt.Errorf("%s: got %q", path, body)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (apt-get install nghttp2-client)", name)
		}
		t.Skipf("%s not on PATH", name)
	}
	return p
}

func TestH2Load(t *testing.T) {
	bin := lookTool(t, "h2load")
	addr := startServer(t, nil)
	out, err := exec.Command(bin, "-n", "4000", "-c", "8", "-m", "16", "http://"+addr+"/load").CombinedOutput()
	if err != nil {
		t.Fatalf("h2load: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored`).FindSubmatch(out)
	if m == nil || string(m[3]) != "4000" || string(m[4]) != "0" || string(m[5]) != "0" {
		t.Fatalf("h2load:\n%s", out)
	}
}

func TestNghttp(t *testing.T) {
	bin := lookTool(t, "nghttp")
	addr := startServer(t, nil)
	for _, mode := range []string{"prior-knowledge", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{"-d", "-", "http://" + addr + "/nghttp/" + mode}
			if mode == "upgrade" {
				args = append([]string{"-u"}, args...)
			}
			cmd := exec.Command(bin, args...)
			cmd.Stdin = bytes.NewReader([]byte("request body"))
			out, err := cmd.CombinedOutput()
			if err != nil || string(out) != "/nghttp/"+mode {
				t.Fatalf("nghttp %v: %v\n%s", args, err, out)
			}
		})
	}
}
