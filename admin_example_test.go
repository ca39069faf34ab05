package gibbon_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"gibbon"
)

// total adds the responses of every worker and driver.
func total(st gibbon.Stats) gibbon.Responses {
	r := st.GoroutineResponses
	add := func(o gibbon.Responses) {
		for i, n := range o.Classes {
			r.Classes[i] += n
		}
	}
	for _, w := range st.Workers {
		add(w.Responses)
	}
	add(st.HTTP2Responses)
	return r
}

// statusOf returns the status of GET url.
func statusOf(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func ExampleServer_Stats() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}, Version: "1.2.3"})
	srv.HandleFunc("GET /hello", func(c *gibbon.Ctx) { c.String(200, "hello\n") })
	srv.Start(context.Background())
	defer srv.Shutdown(context.Background())
	base := "http://" + srv.Addr().String()
	fmt.Println(statusOf(base+"/hello"), statusOf(base+"/nothing"))
	st := srv.Stats()
	r := total(st)
	fmt.Printf("%s, configuration %d: %d responses, 2xx %d, 4xx %d\n", st.Version, st.Generation, r.Total(), r.Classes[1], r.Classes[3])
	// Output:
	// 200 404
	// 1.2.3, configuration 1: 2 responses, 2xx 1, 4xx 1
}

func ExampleServer_Conns() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	srv.HandleFunc("GET /hello", func(c *gibbon.Ctx) { c.String(200, "hello\n") })
	srv.Start(context.Background())
	defer srv.Shutdown(context.Background())
	c, err := net.Dial("tcp", srv.Addr().String()) // a keep-alive client
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	conns, total := srv.Conns(10)
	fmt.Println(total, "open")
	for _, cs := range conns {
		fmt.Println(cs.Remote.String() == c.LocalAddr().String(), cs.Requests, "request")
	}
	// Output:
	// 1 open
	// true 1 request
}

func ExampleServer_ReloadFrom() {
	dir, _ := os.MkdirTemp("", "gibbon-example-")
	defer os.RemoveAll(dir)
	os.Mkdir(filepath.Join(dir, "sites"), 0o755)
	os.WriteFile(filepath.Join(dir, "sites", "default"), []byte("[HOST]\n    DocumentRoot "+dir+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "gibbon.conf"), []byte("[SERVER]\n    Listen 127.0.0.1:0\n"), 0o644)
	cfg, _ := gibbon.LoadConfig(dir)
	srv, _ := gibbon.New(cfg)
	srv.Start(context.Background())
	defer srv.Shutdown(context.Background())

	// SIGHUP's job: read the directory again and swap it in.
	load := func() (gibbon.Config, error) { return gibbon.LoadConfig(dir) }
	fmt.Println(srv.ReloadFrom(load))
	os.WriteFile(filepath.Join(dir, "gibbon.conf"), []byte("[SERVER]\n    Listen 127.0.0.1:0\n    Timeuot 5\n"), 0o644)
	err := srv.ReloadFrom(load)
	fmt.Println(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""))
	st := srv.Stats()
	fmt.Println("generation", st.Generation, "last failed:", st.LastReload.Err != "")
	// Output:
	// <nil>
	// gibbon.conf:3: Timeuot: unknown key in [SERVER] (did you mean Timeout?)
	// generation 2 last failed: true
}

func ExampleServer_AdminHandler() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	srv.Start(context.Background())
	defer srv.Shutdown(context.Background())

	// The metrics on an operator's mux of one's own; the whole endpoint
	// (status, conns, reload …) under /admin/.
	admin := srv.AdminHandler(gibbon.AdminControl{})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", admin)
	mux.Handle("/admin/", http.StripPrefix("/admin", admin))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go http.Serve(ln, mux)

	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "# TYPE gibbon_responses_total") {
			fmt.Println(sc.Text())
		}
	}
	resp.Body.Close()
	resp, _ = http.Post("http://"+ln.Addr().String()+"/admin/reload", "", nil)
	resp.Body.Close()
	fmt.Println("reload:", resp.StatusCode) // AdminControl.Reload is nil
	// Output:
	// # TYPE gibbon_responses_total counter
	// reload: 501
}

func ExampleListenAdmin() {
	dir, _ := os.MkdirTemp("", "gibbon-example-")
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "gibbon.sock")
	ln, err := gibbon.ListenAdmin("unix:" + sock)
	if err != nil {
		log.Fatal(err)
	}
	fi, _ := os.Stat(sock)
	fmt.Println(fi.Mode().Perm())
	ln.Close() // removes the socket
	_, err = os.Stat(sock)
	fmt.Println(errors.Is(err, os.ErrNotExist))

	_, err = gibbon.ListenAdmin("0.0.0.0:2019")
	fmt.Println(err != nil)
	// Output:
	// -rw-------
	// true
	// true
}
