package gibbon_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"

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
