package server

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gibbon/config"
)

// TestSharedFilesConcurrent has several connections of the goroutine
// driver fetch ranges of the same large file at once, over TCP (sendfile
// at an offset) and TLS (pread): the file is shared through the server's
// cache, and no connection may move another's read position.
func TestSharedFilesConcurrent(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"tcp", "tls"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			var certPEM, keyPEM string
			if mode == "tls" {
				dir := t.TempDir()
				certPEM, keyPEM = writeTestCert(t, dir, "default", "localhost")
			}
			ts := start(t, testDriver{opts: Options{Driver: DriverGoroutine}}, func(c *config.Config) {
				if mode == "tls" {
					c.Server.Listen[0].Flags = []string{"tls"}
					c.TLS = config.TLS{CertificateFile: certPEM, KeyFile: keyPEM}
				}
			})
			tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 8}
			scheme := "http"
			if mode == "tls" {
				scheme = "https"
				tr.TLSClientConfig = &tls.Config{RootCAs: ts.certPool(t), ServerName: "localhost"}
			}
			t.Cleanup(tr.CloseIdleConnections)
			c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			big := string(bigContent())
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for i := range 6 {
						first := (g*7919 + i*104729) % (bigSize / 2)
						last := first + bigSize/3
						req, _ := http.NewRequest("GET", scheme+"://"+ts.addr+"/big.bin", nil)
						req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", first, last))
						resp, err := c.Do(req)
						if err != nil {
							t.Error(err)
							return
						}
						b, err := io.ReadAll(resp.Body)
						resp.Body.Close()
						if err != nil || resp.StatusCode != 206 || string(b) != big[first:last+1] {
							t.Errorf("bytes %d-%d: status %d, %d bytes, %v", first, last, resp.StatusCode, len(b), err)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestSharedCacheServesChanges checks that the goroutine driver's shared
// cache sees a file replaced on disk once its validity has passed.
func TestSharedCacheServesChanges(t *testing.T) {
	t.Parallel()
	ts := start(t, testDriver{opts: Options{Driver: DriverGoroutine}}, nil)
	c := client(t)
	if _, body := get(t, c, "GET", ts.url("/digits.txt")); body != testFiles["digits.txt"] {
		t.Fatalf("body %q", body)
	}
	root := ts.cfg.Hosts[0].DocumentRoot
	tmp := filepath.Join(root, "digits.tmp")
	if err := os.WriteFile(tmp, []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(root, "digits.txt")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body := get(t, c, "GET", ts.url("/digits.txt"))
		if body == "changed" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %q", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
