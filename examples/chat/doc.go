// Command chat is a WebSocket chat room on gibbon: open
// http://127.0.0.1:8080/ in several browser tabs; every message goes to
// every tab.
//
// It is an example of the library API (gibbon and gibbon/websocket), not
// part of it: nothing imports it, and it is no chat server to deploy.
package main
