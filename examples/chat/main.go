package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"sync"

	"gibbon"
	"gibbon/websocket"
)

const page = `<!doctype html><title>chat</title>
<form id=f><input id=m autocomplete=off><button>send</button></form><pre id=log></pre>
<script>
const ws = new WebSocket("ws://" + location.host + "/ws");
ws.onmessage = (e) => { document.getElementById("log").textContent += e.data + "\n"; };
document.getElementById("f").onsubmit = (e) => {
  e.preventDefault();
  const m = document.getElementById("m");
  ws.send(m.value); m.value = "";
};
</script>`

// room is the set of connected clients.
type room struct {
	mu      sync.Mutex
	members map[*websocket.Conn]bool
}

func (r *room) join(c *websocket.Conn) {
	r.mu.Lock()
	r.members[c] = true
	r.mu.Unlock()
}

func (r *room) leave(c *websocket.Conn) {
	r.mu.Lock()
	delete(r.members, c)
	r.mu.Unlock()
}

func (r *room) broadcast(msg []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.members {
		c.WriteMessage(websocket.Text, msg)
	}
}

func main() {
	rm := &room{members: make(map[*websocket.Conn]bool)}
	srv, err := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:8080"}})
	if err != nil {
		log.Fatal(err)
	}
	srv.HandleFunc("GET /{$}", func(c *gibbon.Ctx) {
		c.Bytes(200, "text/html; charset=utf-8", []byte(page))
	})
	srv.HandleFunc("GET /ws", func(c *gibbon.Ctx) {
		conn, err := websocket.Accept(c, &websocket.Options{MaxMessageSize: 4 << 10, Compression: true})
		if err != nil {
			return
		}
		rm.join(conn)
		defer rm.leave(conn)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			rm.broadcast(msg)
		}
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := srv.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
