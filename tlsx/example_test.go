package tlsx_test

import (
	"crypto/tls"
	"fmt"
	"log"

	"gibbon/tlsx"
)

// A listener with a generated development certificate, offering h2 and
// HTTP/1.1; a real configuration sets Default and Hosts from tls.conf and
// the [HOST] files.
func ExampleServerConfig() {
	store, err := tlsx.NewStore(tlsx.StoreConfig{})
	if err != nil {
		log.Fatal(err)
	}
	if store.SelfSigned() {
		fmt.Println("warning: serving a self-signed certificate")
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", tlsx.ServerConfig(store, tlsx.DefaultALPN, nil))
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	// Per connection, after the handshake:
	//   switch tlsx.Protocol(conn.ConnectionState()) { case tlsx.ALPNH2: ... }
	// On SIGHUP: store.Reload().
	// Output: warning: serving a self-signed certificate
}
