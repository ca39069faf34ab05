package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"gibbon/config"
)

// MaxUsersFile is the largest users file read, in bytes.
const MaxUsersFile = 4 << 20

// users is one users file: name → credential. Read-only after readUsers.
type users struct {
	byName    map[string]credential
	hasBcrypt bool
	dummy     credential // compared against for an unknown user
}

// credential is one stored password: a bcrypt hash, or the SHA-1 digest
// of a {SHA} entry.
type credential struct {
	bcrypt []byte
	sha1   []byte
}

// readUsers reads a users file: one "user:hash" per line, where hash is
// "{SHA}" + base64(SHA-1(password)) (Monkey's and htpasswd -s's format) or
// a bcrypt hash "$2y$", "$2a$" or "$2b$" (htpasswd -B). Blank lines and
// lines starting with '#' are skipped. A malformed line is an error with
// its line number.
func readUsers(path string) (*users, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) > MaxUsersFile {
		return nil, &config.Error{File: path, Msg: "file too large"}
	}
	return parseUsers(path, data)
}

func parseUsers(path string, data []byte) (*users, error) {
	u := &users{byName: make(map[string]credential)}
	for n, line := range bytes.Split(data, []byte("\n")) {
		s := strings.TrimRight(string(line), "\r \t")
		if s == "" || strings.HasPrefix(strings.TrimSpace(s), "#") {
			continue
		}
		name, hash, ok := strings.Cut(s, ":")
		if !ok || name == "" {
			return nil, &config.Error{File: path, Line: n + 1, Msg: "want user:hash"}
		}
		if _, dup := u.byName[name]; dup {
			return nil, &config.Error{File: path, Line: n + 1, Key: name, Msg: "user listed twice"}
		}
		c, err := parseHash(hash)
		if err != nil {
			return nil, &config.Error{File: path, Line: n + 1, Key: name, Msg: err.Error()}
		}
		u.hasBcrypt = u.hasBcrypt || c.bcrypt != nil
		u.byName[name] = c
	}
	return u, u.makeDummy()
}

// makeDummy prepares what an unknown user's password is compared against,
// so that the answer takes as long as for a known user (no user
// enumeration by timing): a bcrypt hash of a random password at the
// highest cost the file uses, or a SHA-1 digest.
func (u *users) makeDummy() error {
	cost := 0
	for _, c := range u.byName {
		if c.bcrypt != nil {
			n, _ := bcrypt.Cost(c.bcrypt)
			cost = max(cost, n)
		}
	}
	if cost == 0 {
		u.dummy = credential{sha1: make([]byte, sha1.Size)}
		return nil
	}
	var secret [16]byte
	rand.Read(secret[:])
	h, err := bcrypt.GenerateFromPassword(secret[:], cost)
	u.dummy = credential{bcrypt: h}
	return err
}

// MaxBcryptCost is the highest bcrypt cost a users file may use, as with
// Apache's htpasswd (4 to 17): the time of a check doubles with each step,
// and cost 17 already takes seconds of CPU per login.
const MaxBcryptCost = 17

// bcryptShape reports whether h is laid out as a bcrypt hash: "$2y$NN$"
// then 22 characters of salt and 31 of hash in bcrypt's base64 alphabet.
func bcryptShape(h string) bool {
	if len(h) != 60 || h[6] != '$' {
		return false
	}
	for i := 7; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '/') {
			return false
		}
	}
	return true
}

type hashError string

func (e hashError) Error() string { return string(e) }

func parseHash(h string) (credential, error) {
	switch {
	case strings.HasPrefix(h, "{SHA}"), strings.HasPrefix(h, "{SHA1}"):
		b64 := h[strings.IndexByte(h, '}')+1:]
		d, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(d) != sha1.Size {
			return credential{}, hashError("bad {SHA} hash: want base64 of 20 bytes")
		}
		return credential{sha1: d}, nil
	case strings.HasPrefix(h, "$2y$"), strings.HasPrefix(h, "$2a$"), strings.HasPrefix(h, "$2b$"):
		cost, err := bcrypt.Cost([]byte(h))
		if err != nil {
			return credential{}, hashError("bad bcrypt hash: " + err.Error())
		}
		if !bcryptShape(h) {
			return credential{}, hashError("bad bcrypt hash: want $2y$, two cost digits, $ and 53 characters of bcrypt's base64")
		}
		if cost > MaxBcryptCost {
			return credential{}, hashError(fmt.Sprintf("bcrypt cost %d is over %d: each login would take minutes of CPU", cost, MaxBcryptCost))
		}
		return credential{bcrypt: []byte(h)}, nil
	}
	return credential{}, hashError("unknown hash format (want {SHA} or bcrypt $2y$)")
}

// check reports whether password is user's. It does the same work whether
// or not the user exists: an unknown user is compared against a dummy of
// the kind the file holds (bcrypt when it has any).
func (u *users) check(user, password string) bool {
	c, known := u.byName[user]
	if !known {
		c = u.dummy
	}
	var ok bool
	if c.bcrypt != nil {
		ok = bcrypt.CompareHashAndPassword(c.bcrypt, []byte(password)) == nil
	} else {
		sum := sha1.Sum([]byte(password))
		ok = subtle.ConstantTimeCompare(sum[:], c.sha1) == 1
	}
	return ok && known
}

// slow reports whether checking user's password may take long (bcrypt).
func (u *users) slow(user string) bool {
	c, known := u.byName[user]
	if !known {
		return u.hasBcrypt
	}
	return c.bcrypt != nil
}
