package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"time"

	"gibbon"
)

func main() {
	srv, err := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:8080"}})
	if err != nil {
		log.Fatal(err)
	}
	srv.HandleFunc("GET /api/time", func(c *gibbon.Ctx) {
		c.JSON(200, map[string]string{"time": time.Now().UTC().Format(time.RFC3339)})
	})
	srv.Static("/downloads/", os.TempDir())
	srv.Static("/", "./public")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := srv.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
