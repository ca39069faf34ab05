package auth

import (
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzParseBasic decodes arbitrary Authorization values (client input):
// no panic, and a decoded pair encodes back to a value that decodes to it.
func FuzzParseBasic(f *testing.F) {
	f.Add([]byte("Basic YWxpY2U6d29uZGVybGFuZA=="))
	f.Add([]byte("basic   Og=="))
	f.Add([]byte("Basic "))
	f.Add([]byte("Digest x"))
	f.Fuzz(func(t *testing.T, v []byte) {
		user, pass, ok := parseBasic(v)
		if !ok {
			return
		}
		if user == "" || strings.Contains(user, ":") {
			t.Fatalf("user %q from %q", user, v)
		}
		again := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
		u2, p2, ok2 := parseBasic([]byte(again))
		if !ok2 || u2 != user || p2 != pass {
			t.Fatalf("round trip of %q:%q failed", user, pass)
		}
	})
}

// FuzzParseUsers reads arbitrary users files: no panic.
func FuzzParseUsers(f *testing.F) {
	f.Add([]byte("alice:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n# x\n\nbob:$2a$04$ZSrvfwaqCnHmdqODTVsy9uGuNZZZrlFDxqmYPKZrfySwlCxnO93/G\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := parseUsers("f", data)
		if err == nil && u == nil {
			t.Fatal("nil users without error")
		}
	})
}
