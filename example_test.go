package gibbon_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"

	"gibbon"
)

// fetch prints the status and body of GET url.
func fetch(url string) {
	resp, err := http.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Printf("%d %s", resp.StatusCode, b)
}

// postWithTrailer POSTs body to url, chunked (its length unknown), with
// trailer after the last chunk, and prints the status and body of the
// answer.
func postWithTrailer(url, body string, trailer http.Header) {
	req, _ := http.NewRequest("POST", url, io.MultiReader(strings.NewReader(body)))
	req.Trailer = trailer
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Printf("%d %s", resp.StatusCode, b)
}

func ExampleNew() {
	srv, err := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		log.Fatal(err)
	}
	srv.HandleFunc("/", func(c *gibbon.Ctx) { c.String(200, "hello\n") })
	if err := srv.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	fetch("http://" + srv.Addr().String() + "/")
	// Output: 200 hello
}

func ExampleServer_Handle() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	srv.Handle("GET /users/{id}/files/{path...}", gibbon.HandlerFunc(func(c *gibbon.Ctx) {
		c.String(200, c.Param("id")+" "+c.Param("path")+"\n")
	}))
	srv.Start(context.Background())
	defer srv.Shutdown(context.Background())
	fetch("http://" + srv.Addr().String() + "/users/7/files/a/b.txt")
	// Output: 200 7 a/b.txt
}

func ExampleServer_HandleHTTP() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s\n", r.PathValue("name"))
	})
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	srv.HandleHTTP("/", mux)
	srv.Start(context.Background())
	defer srv.Shutdown(context.Background())
	fetch("http://" + srv.Addr().String() + "/hello/gibbon")
	// Output: 200 hello, gibbon
}

func ExampleServer_Static() {
	dir, _ := os.MkdirTemp("", "site")
	defer os.RemoveAll(dir)
	os.WriteFile(dir+"/app.css", []byte("body{}\n"), 0o644)
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	srv.Static("/assets/", dir) // a handler below /assets/
	srv.Static("/", dir)        // the default host's document root
	srv.Start(context.Background())
	defer srv.Shutdown(context.Background())
	fetch("http://" + srv.Addr().String() + "/assets/app.css")
	fetch("http://" + srv.Addr().String() + "/app.css")
	// Output:
	// 200 body{}
	// 200 body{}
}

func ExampleServer_Run() {
	srv, err := gibbon.New(gibbon.Config{Listen: []string{":8080"}})
	if err != nil {
		log.Fatal(err)
	}
	srv.HandleFunc("/", func(c *gibbon.Ctx) { c.String(200, "hello\n") })
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	log.Fatal(srv.Run(ctx)) // serves until Ctrl-C, then shuts down gracefully
}

func ExampleServer_Start() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	srv.HandleFunc("/", func(c *gibbon.Ctx) { c.String(200, "up\n") })
	if err := srv.Start(context.Background()); err != nil { // returns once listening
		log.Fatal(err)
	}
	fetch("http://" + srv.Addr().String() + "/")
	if err := srv.Shutdown(context.Background()); err != nil { // graceful
		log.Fatal(err)
	}
	// Output: 200 up
}

func ExampleLoadConfig() {
	cfg, err := gibbon.LoadConfig("/etc/gibbon") // gibbon.conf, sites/, plugins.load …
	if err != nil {
		log.Fatal(err)
	}
	cfg.Listen = []string{"127.0.0.1:8080"} // fields override the directory
	srv, err := gibbon.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(srv.Run(context.Background()))
}

func ExampleCtx_JSON() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	srv.HandleFunc("GET /api/status", func(c *gibbon.Ctx) {
		c.JSON(200, map[string]any{"ok": true, "path": c.Path()})
	})
	srv.Start(context.Background())
	defer srv.Shutdown(context.Background())
	fetch("http://" + srv.Addr().String() + "/api/status")
	// Output: 200 {"ok":true,"path":"/api/status"}
}

func ExampleCtx_Flush() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	srv.HandleFunc("/count", func(c *gibbon.Ctx) {
		for i := range 3 {
			fmt.Fprintf(c, "%d ", i)
			c.Flush() // each number leaves as a chunk at once
		}
	})
	srv.Start(context.Background())
	defer srv.Shutdown(context.Background())
	fetch("http://" + srv.Addr().String() + "/count")
	// Output: 200 0 1 2
}

func ExampleCtx_RequestTrailer() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	srv.HandleFunc("POST /upload", func(c *gibbon.Ctx) {
		body, _ := io.ReadAll(c.Body()) // the trailers come after the body
		fmt.Fprintf(c, "%s checksum=%s\n", body, c.RequestTrailer("X-Checksum"))
	})
	srv.Start(context.Background())
	defer srv.Shutdown(context.Background())

	postWithTrailer("http://"+srv.Addr().String()+"/upload", "data", http.Header{"X-Checksum": {"8d777f38"}})
	// Output: 200 data checksum=8d777f38
}

func ExampleCtx_RequestTrailers() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	srv.HandleFunc("POST /upload", func(c *gibbon.Ctx) {
		io.Copy(io.Discard, c.Body())
		for _, f := range c.RequestTrailers() {
			fmt.Fprintf(c, "%s: %s\n", f.Name, f.Value)
		}
	})
	srv.Start(context.Background())
	defer srv.Shutdown(context.Background())

	postWithTrailer("http://"+srv.Addr().String()+"/upload", "data", http.Header{"X-Checksum": {"8d777f38"}})
	// Output: 200 X-Checksum: 8d777f38
}

func ExampleServer_Check() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	// Validate the configuration and load the plugins, binding nothing
	// (what gibbon -t does).
	if err := srv.Check(); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(context.Background()) // the plugins' Cleanup
	fmt.Println(srv.Addr() == nil)
	// Output: true
}

func ExampleServer_Describe() {
	srv, _ := gibbon.New(gibbon.Config{})
	if err := srv.Check(); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	fmt.Print(srv.Describe())
	// Output:
	// plugins: -
	// process context: -
	// worker context: -
	// stage 10 accept: -
	// stage 20 request: -
	// stage 30 handle: - (static files)
	// stage 40 done: -
	// stage 50 close: -
}

func ExampleServer_Listen() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	srv.HandleFunc("/", func(c *gibbon.Ctx) { c.String(200, "bound first\n") })
	if err := srv.Listen(); err != nil { // binds, serves nothing yet
		log.Fatal(err)
	}
	// A process started as root would drop its privileges here.
	go srv.Serve()
	defer srv.Shutdown(context.Background())
	fetch("http://" + srv.Addr().String() + "/")
	// Output: 200 bound first
}

func ExampleServer_Serve() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	srv.HandleFunc("/", func(c *gibbon.Ctx) { c.String(200, "served\n") })
	if err := srv.Listen(); err != nil {
		log.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }() // blocks until Shutdown
	fetch("http://" + srv.Addr().String() + "/")
	srv.Shutdown(context.Background())
	fmt.Println(<-done)
	// Output:
	// 200 served
	// <nil>
}

func ExampleServer_Reload() {
	v1, _ := os.MkdirTemp("", "v1")
	defer os.RemoveAll(v1)
	v2, _ := os.MkdirTemp("", "v2")
	defer os.RemoveAll(v2)
	os.WriteFile(v1+"/index.html", []byte("version 1\n"), 0o644)
	os.WriteFile(v2+"/index.html", []byte("version 2\n"), 0o644)
	cfg := gibbon.Config{Listen: []string{"127.0.0.1:0"}, DocumentRoot: v1}
	srv, _ := gibbon.New(cfg)
	srv.HandleFunc("/api/", func(c *gibbon.Ctx) { c.String(200, "api\n") })
	if err := srv.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	fetch("http://" + srv.Addr().String() + "/")
	cfg.DocumentRoot = v2 // or a new gibbon.LoadConfig of the same directory
	if err := srv.Reload(cfg); err != nil {
		log.Print("keeping the running configuration: ", err)
	}
	fetch("http://" + srv.Addr().String() + "/")
	fetch("http://" + srv.Addr().String() + "/api/") // routes stay
	// Output:
	// 200 version 1
	// 200 version 2
	// 200 api
}

func ExampleServer_ReloadCertificates() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0 tls h2"}})
	if err := srv.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	// After the certificate files were renewed (the gibbon command does
	// this on SIGHUP):
	if err := srv.ReloadCertificates(); err != nil {
		log.Print("keeping the current certificates: ", err)
	}
	fmt.Println("reloaded")
	// Output: reloaded
}

func ExampleServer_ReopenLogs() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	if err := srv.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	// After a log rotation moved the files aside (the gibbon command does
	// this on SIGUSR1). This configuration loads no logger plugin.
	if err := srv.ReopenLogs(); errors.Is(err, gibbon.ErrNoLogger) {
		fmt.Println("no log files")
	} else if err != nil {
		log.Print(err)
	}
	// Output: no log files
}

func ExampleParseDriver() {
	d, err := gibbon.ParseDriver("goroutine") // from a --driver flag
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d, d == gibbon.DriverGoroutine)
	// Output: goroutine true
}

func ExampleDriver() {
	srv, _ := gibbon.New(gibbon.Config{
		Listen: []string{"127.0.0.1:0"},
		Driver: gibbon.DriverGoroutine, // one goroutine per connection, no epoll loop
	})
	srv.HandleFunc("/", func(c *gibbon.Ctx) { c.String(200, "on a goroutine\n") })
	srv.Start(context.Background())
	defer srv.Shutdown(context.Background())
	fetch("http://" + srv.Addr().String() + "/")
	// Output: 200 on a goroutine
}

func ExampleBalancing() {
	srv, _ := gibbon.New(gibbon.Config{
		Listen:    []string{"127.0.0.1:0"},
		Workers:   2,
		Driver:    gibbon.DriverEpoll,
		Balancing: gibbon.BalancingFair, // one acceptor feeds the least busy worker
	})
	srv.HandleFunc("/", func(c *gibbon.Ctx) { c.String(200, "balanced\n") })
	if err := srv.Start(context.Background()); err != nil {
		log.Fatal(err) // DriverEpoll fails where epoll does not run
	}
	defer srv.Shutdown(context.Background())
	fetch("http://" + srv.Addr().String() + "/")
	// Output: 200 balanced
}
