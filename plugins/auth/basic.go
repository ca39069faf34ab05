package auth

import (
	"encoding/base64"
	"strings"
)

// MaxCredentials is the longest Authorization value decoded, in bytes.
const MaxCredentials = 4096

// parseBasic decodes an "Authorization: Basic <base64(user:password)>"
// value (RFC 7617). The scheme is case-insensitive; the user name must not
// be empty; the password may be. It reports false for anything else.
func parseBasic(v []byte) (user, password string, ok bool) {
	const scheme = "basic "
	if len(v) > MaxCredentials || len(v) <= len(scheme) {
		return "", "", false
	}
	if !strings.EqualFold(string(v[:len(scheme)]), scheme) {
		return "", "", false
	}
	enc := strings.TrimLeft(string(v[len(scheme):]), " ")
	dec, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", "", false
	}
	user, password, ok = strings.Cut(string(dec), ":")
	if !ok || user == "" {
		return "", "", false
	}
	return user, password, true
}
