package main

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"os"
	"os/signal"
	"sync"

	"gibbon"
)

type store struct {
	mu    sync.RWMutex
	items map[string]json.RawMessage
}

func main() {
	st := &store{items: make(map[string]json.RawMessage)}
	srv, err := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:8080"}})
	if err != nil {
		log.Fatal(err)
	}
	srv.HandleFunc("GET /items", func(c *gibbon.Ctx) {
		st.mu.RLock()
		defer st.mu.RUnlock()
		c.JSON(200, st.items)
	})
	srv.HandleFunc("GET /items/{key}", func(c *gibbon.Ctx) {
		st.mu.RLock()
		v, ok := st.items[c.Param("key")]
		st.mu.RUnlock()
		if !ok {
			c.JSON(404, map[string]string{"error": "no such item"})
			return
		}
		c.JSON(200, v)
	})
	srv.HandleFunc("PUT /items/{key}", func(c *gibbon.Ctx) {
		b, err := io.ReadAll(io.LimitReader(c.Body(), 1<<20))
		if err != nil || !json.Valid(b) {
			c.JSON(400, map[string]string{"error": "want a JSON value"})
			return
		}
		st.mu.Lock()
		st.items[c.Param("key")] = b
		st.mu.Unlock()
		c.Status(204)
	})
	srv.HandleFunc("DELETE /items/{key}", func(c *gibbon.Ctx) {
		st.mu.Lock()
		delete(st.items, c.Param("key"))
		st.mu.Unlock()
		c.Status(204)
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := srv.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
