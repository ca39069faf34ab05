package auth

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// PasswdOptions are the switches of `gibbon passwd [-c] [-D] FILE USER [PASS]`.
type PasswdOptions struct {
	// Create starts a new file, replacing an existing one (-c).
	Create bool
	// Delete removes the user instead of setting a password (-D).
	Delete bool
	// SHA1 stores Monkey's {SHA} format instead of bcrypt. It is weak (no
	// salt, fast): use it only for files shared with Monkey.
	SHA1 bool
	// Cost is the bcrypt cost, at most MaxBcryptCost; 0 means
	// bcrypt.DefaultCost.
	Cost int
}

// ErrNoUser is returned by Passwd with Delete for a user not in the file.
var ErrNoUser = errors.New("auth: no such user")

// Passwd adds user to the users file at path or changes their password,
// or removes them with opts.Delete. Other lines (comments included) are
// kept in order. The file is replaced atomically (a temporary file in the
// same directory, then rename); a new file is created with mode 0600, an
// existing one keeps its mode.
func Passwd(path, user, password string, opts PasswdOptions) error {
	if user == "" || strings.ContainsAny(user, ":\r\n") {
		return fmt.Errorf("auth: bad user name %q", user)
	}
	var old []byte
	mode := fs.FileMode(0o600)
	if !opts.Create {
		var err error
		old, err = os.ReadFile(path)
		if err != nil && !(errors.Is(err, fs.ErrNotExist) && !opts.Delete) {
			return fmt.Errorf("auth: %w", err)
		}
		if st, err := os.Stat(path); err == nil {
			mode = st.Mode().Perm()
		}
	}
	var line string
	if !opts.Delete {
		h, err := HashPassword(password, opts)
		if err != nil {
			return err
		}
		line = user + ":" + h
	}
	out, found := replaceUser(old, user, line)
	if opts.Delete && !found {
		return ErrNoUser
	}
	return writeAtomic(path, out, mode)
}

// HashPassword returns the stored form of password: a bcrypt hash ($2a$;
// htpasswd's $2y$ is the same algorithm) or, with opts.SHA1, "{SHA}" and
// the base64 of its SHA-1 digest.
func HashPassword(password string, opts PasswdOptions) (string, error) {
	if opts.SHA1 {
		sum := sha1.Sum([]byte(password))
		return "{SHA}" + base64.StdEncoding.EncodeToString(sum[:]), nil
	}
	cost := opts.Cost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	if cost > MaxBcryptCost {
		return "", fmt.Errorf("auth: bcrypt cost %d is over %d, the most a users file may use", cost, MaxBcryptCost)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	return string(h), nil
}

// replaceUser returns data with user's line replaced by line (removed when
// line is ""), or line appended when user has none.
func replaceUser(data []byte, user, line string) ([]byte, bool) {
	var out bytes.Buffer
	found := false
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		name, _, _ := strings.Cut(string(l), ":")
		if name == user {
			if !found && line != "" {
				out.WriteString(line + "\n")
			}
			found = true
			continue
		}
		out.Write(l)
		if l[len(l)-1] != '\n' {
			out.WriteByte('\n')
		}
	}
	if !found && line != "" {
		out.WriteString(line + "\n")
	}
	return out.Bytes(), found
}

func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("auth: %w", err)
	}
	return nil
}
