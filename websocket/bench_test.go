package websocket_test

import (
	"context"
	"io"
	"testing"

	"gibbon"
	"gibbon/websocket"
)

// BenchmarkEcho measures one message's round trip (a 32-byte text
// message and its echo) on a connection read by ReadMessage and on a
// parked one, which is woken, read and parked again for every message.
func BenchmarkEcho(b *testing.B) {
	srv, err := gibbon.New(gibbon.Config{Listen: []string{"127.0.0.1:0"}, Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	srv.HandleFunc("GET /blocking", func(c *gibbon.Ctx) {
		if conn, err := websocket.Accept(c, nil); err == nil {
			echo(conn)
		}
	})
	srv.HandleFunc("GET /parked", func(c *gibbon.Ctx) {
		if conn, err := websocket.Accept(c, nil); err == nil {
			conn.Park(parkedEcho{})
		}
	})
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	msg := frame(true, 1, []byte("0123456789abcdef0123456789abcdef"))
	for _, path := range []string{"blocking", "parked"} {
		b.Run(path, func(b *testing.B) {
			c := rawDial(b, "ws://"+srv.Addr().String()+"/"+path, nil)
			readHead(b, c)
			got := make([]byte, 2+32)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, got); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
