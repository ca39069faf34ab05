// Command chat is a WebSocket chat room on gibbon: open
// http://127.0.0.1:8080/ in several browser tabs; every message goes to
// every tab.
//
// The room parks its members' connections (websocket.Conn.Park) instead
// of keeping a goroutine per member blocked in ReadMessage: a chat member
// is idle most of the time, and a parked one costs about 1 KiB and no
// goroutine. The room is the websocket.Handler of every member: it is
// called per message, and broadcasts with WriteMessage, which works on
// parked connections.
//
// It is an example of the library API (gibbon and gibbon/websocket), not
// part of it: nothing imports it, and it is no chat server to deploy.
package main
