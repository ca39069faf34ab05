package main

import (
	"context"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"gibbon"
	"gibbon/config"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	mode := flag.String("mode", "native", "native (gibbon.Ctx), nonblocking (gibbon.Ctx on the event loop) or nethttp (the net/http adapter)")
	workers := flag.Int("workers", 1, "epoll workers")
	flag.Parse()

	model := config.Default("")
	model.Server.MaxKeepAliveRequest = 1 << 30 // as the benchmark's other servers: no per-connection limit
	srv, err := gibbon.New(gibbon.Config{Listen: []string{*addr}, Workers: *workers, Model: model})
	if err != nil {
		log.Fatal(err)
	}
	hello := func(c *gibbon.Ctx) {
		c.SetHeader("Content-Type", "text/plain")
		c.WriteString("Hello, World!")
	}
	switch *mode {
	case "native":
		srv.HandleFunc("/", hello)
	case "nonblocking":
		srv.HandleNonBlocking("/", gibbon.HandlerFunc(hello))
	case "nethttp":
		srv.HandleHTTP("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "Hello, World!")
		}))
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
