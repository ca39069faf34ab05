package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"gibbon"
)

func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		log.Printf("%s %s %v", r.Method, r.URL.Path, time.Since(start))
	})
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s\n", r.PathValue("name"))
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			fmt.Fprintf(w, "data: tick %d\n\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(time.Second)
		}
	})

	// Before: log.Fatal(http.ListenAndServe("127.0.0.1:8080", logRequests(mux)))
	srv, err := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:8080"}}) // 1
	if err != nil {
		log.Fatal(err)
	}
	srv.HandleHTTP("/", logRequests(mux))    // 2
	log.Fatal(srv.Run(context.Background())) // 3
}
