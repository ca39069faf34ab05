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

// room is the set of connected clients. It is the websocket.Handler of
// every member's parked connection: a member costs no goroutine while it
// says nothing.
type room struct {
	mu      sync.Mutex
	members map[*websocket.Conn]bool
}

func (r *room) join(c *websocket.Conn) {
	r.mu.Lock()
	r.members[c] = true
	r.mu.Unlock()
}

// OnMessage sends a member's message to every member.
func (r *room) OnMessage(_ *websocket.Conn, _ websocket.MessageType, msg []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.members {
		c.WriteMessage(websocket.Text, msg)
	}
}

// OnClose removes a member that left.
func (r *room) OnClose(c *websocket.Conn, _ error) {
	r.mu.Lock()
	delete(r.members, c)
	r.mu.Unlock()
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
		conn.Park(rm) // the handler returns; the room is called per message
	})
	// On Ctrl-C, Run's Shutdown sends every parked member close 1001
	// (going away) and waits for its answer.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := srv.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
