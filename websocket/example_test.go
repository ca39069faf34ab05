package websocket_test

import (
	"maps"
	"net/http"
	"slices"
	"sync"

	"gibbon"
	"gibbon/websocket"
)

func ExampleAccept() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	srv.HandleFunc("GET /ws", func(c *gibbon.Ctx) {
		conn, err := websocket.Accept(c, &websocket.Options{Compression: true})
		if err != nil {
			return // the client was answered
		}
		for {
			t, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			conn.WriteMessage(t, msg)
		}
	})
}

func ExampleUpgrade() {
	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close(websocket.StatusNormal, "")
		conn.WriteMessage(websocket.Text, []byte("hello"))
	})
}

// echoHandler echoes every message of a parked connection.
type echoHandler struct{}

func (echoHandler) OnMessage(c *websocket.Conn, t websocket.MessageType, p []byte) {
	c.WriteMessage(t, p)
}

func (echoHandler) OnClose(c *websocket.Conn, err error) {}

func ExampleConn_Park() {
	srv, _ := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}})
	srv.HandleFunc("GET /ws", func(c *gibbon.Ctx) {
		conn, err := websocket.Accept(c, nil)
		if err != nil {
			return
		}
		// The handler returns at once; echoHandler is called per message,
		// and the idle connection holds no goroutine.
		conn.Park(echoHandler{})
	})
}

// hub is the set of parked echo connections of a net/http server.
type hub struct {
	mu    sync.Mutex
	conns map[*websocket.Conn]bool
	wg    sync.WaitGroup // one per connection until its OnClose
}

func (h *hub) OnMessage(c *websocket.Conn, t websocket.MessageType, p []byte) {
	c.WriteMessage(t, p)
}

func (h *hub) OnClose(c *websocket.Conn, err error) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.wg.Done()
}

// A gibbon server closes its parked connections at Shutdown; net/http's
// forgets them once hijacked, so the application sends them away itself.
func ExampleConn_GoAway() {
	h := &hub{conns: make(map[*websocket.Conn]bool)}
	srv := &http.Server{Addr: "127.0.0.1:8080"}
	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		h.mu.Lock()
		h.conns[conn] = true
		h.wg.Add(1)
		h.mu.Unlock()
		conn.Park(h)
	})
	srv.RegisterOnShutdown(func() {
		h.mu.Lock()
		conns := slices.Collect(maps.Keys(h.conns))
		h.mu.Unlock()
		for _, c := range conns {
			c.GoAway()
		}
	})
	// srv.Shutdown(ctx) runs the function above but does not wait for it:
	// h.wg.Wait() waits until every connection's OnClose was called.
}
