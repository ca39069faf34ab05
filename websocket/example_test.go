package websocket_test

import (
	"net/http"

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
