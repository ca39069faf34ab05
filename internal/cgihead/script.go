package cgihead

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Script is the script a request path names, found by [Locator.Locate].
type Script struct {
	// Filename is the file system path (SCRIPT_FILENAME).
	Filename string
	// Name is the URL path of the script (SCRIPT_NAME).
	Name string
	// PathInfo is the rest of the request path (PATH_INFO), "" or
	// beginning with "/".
	PathInfo string
}

// StatusError is a status [Locator.Locate] or [Spool] answers with: 404 (nothing
// there), 403 (a link with symlinks off, a special file, no permission),
// 301 (a directory named without its trailing slash), 413 (a body over the
// limit), 500 (no document root).
type StatusError struct {
	Status int
	Err    error
}

func (e *StatusError) Error() string {
	s := "cgihead: " + strconv.Itoa(e.Status)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *StatusError) Unwrap() error { return e.Err }

// DefaultValidity is how long a [Locator] uses what it found of a path
// before it looks at the file system again.
const DefaultValidity = time.Second

// DefaultMaxEntries is the default bound on the paths a [Locator]
// remembers.
const DefaultMaxEntries = 4096

// Locator finds the script a request path names ([Locator.Locate]),
// remembering for Validity what the file system said of each path it
// looked at (a directory, a regular file, something else, nothing there,
// no permission), so that a request for a known script makes no system
// call and no allocation. The zero value is ready to use. Safe for
// concurrent use; it must not be copied once used.
//
// Until Validity has passed since a path was looked at, the Locator
// answers from what it saw: a script created, removed or renamed, a
// directory replaced by a symbolic link, a change of permissions is seen
// that late, as in the static package's file cache.
type Locator struct {
	// Validity is how long what a stat found is used. Zero means
	// [DefaultValidity]; a negative value looks on every call.
	Validity time.Duration
	// MaxEntries bounds the remembered paths. When they are all held and
	// fresh, a new path is looked at but not remembered. Zero or negative
	// means [DefaultMaxEntries].
	MaxEntries int

	mu    sync.RWMutex
	seen  [2]map[string]seen // by file path; [1] with symbolic links followed
	swept time.Time          // when expired entries were last dropped
}

// seen is what a stat found of a file.
type seen struct {
	file string // the path, also the key
	mode fs.FileMode
	err  error // a *StatusError, or nil
	at   time.Time
}

// Locate finds the script of the clean, decoded path p below root, as CGI
// servers do: it walks p from the root one segment at a time, and the first
// segment that is a regular file is the script; the rest of p is PATH_INFO
// ("/index.php/some/route" → script "/index.php", PATH_INFO "/some/route").
// When every segment is a directory and p ends in "/", the first of
// indexFiles that is a regular file there is the script. With symlinks
// false a symbolic link on the way answers 403; with it true links are
// followed.
func (l *Locator) Locate(root, p string, indexFiles []string, symlinks bool) (Script, error) {
	if root == "" || !strings.HasPrefix(p, "/") {
		return Script{}, &StatusError{Status: 500, Err: errors.New("no document root")}
	}
	root = strings.TrimSuffix(root, "/")
	now := time.Now()
	var buf [256]byte // the file path, looked up without an allocation
	for j := 1; j <= len(p); j++ {
		if j < len(p) && p[j] != '/' {
			continue
		}
		prefix := p[:j]
		if prefix == "/" || strings.HasSuffix(prefix, "/") {
			continue
		}
		e := l.kind(append(append(buf[:0], root...), prefix...), symlinks, now)
		switch {
		case e.err != nil:
			return Script{}, e.err
		case e.mode.IsRegular():
			return Script{Filename: e.file, Name: e.file[len(root):], PathInfo: p[j:]}, nil
		case !e.mode.IsDir():
			return Script{}, &StatusError{Status: 403, Err: errors.New("not a regular file")}
		}
	}
	if !strings.HasSuffix(p, "/") {
		return Script{}, &StatusError{Status: 301}
	}
	for _, name := range indexFiles {
		e := l.kind(append(append(append(buf[:0], root...), p...), name...), symlinks, now)
		if e.err == nil && e.mode.IsRegular() {
			return Script{Filename: e.file, Name: e.file[len(root):]}, nil
		}
	}
	return Script{}, &StatusError{Status: 404, Err: errors.New("no index file")}
}

// kind returns what the file system says of file, from what l saw of it
// unless that is older than Validity.
func (l *Locator) kind(file []byte, symlinks bool, now time.Time) seen {
	validity := l.Validity
	if validity == 0 {
		validity = DefaultValidity
	}
	i := 0
	if symlinks {
		i = 1
	}
	if validity > 0 {
		l.mu.RLock()
		e, ok := l.seen[i][string(file)]
		l.mu.RUnlock()
		if ok && now.Sub(e.at) < validity {
			return e
		}
	}
	e := seen{file: string(file), at: now}
	e.mode, e.err = stat(e.file, symlinks)
	if validity > 0 {
		l.remember(i, e, validity)
	}
	return e
}

// remember keeps e, unless MaxEntries are held: then it first drops the
// entries older than validity, at most once per validity.
func (l *Locator) remember(i int, e seen, validity time.Duration) {
	max := l.MaxEntries
	if max <= 0 {
		max = DefaultMaxEntries
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[i] == nil {
		l.seen[i] = make(map[string]seen)
	}
	if _, ok := l.seen[i][e.file]; !ok && len(l.seen[0])+len(l.seen[1]) >= max {
		if e.at.Sub(l.swept) < validity {
			return
		}
		l.swept = e.at
		for _, m := range l.seen {
			for k, old := range m {
				if e.at.Sub(old.at) >= validity {
					delete(m, k)
				}
			}
		}
		if len(l.seen[0])+len(l.seen[1]) >= max {
			return
		}
	}
	l.seen[i][e.file] = e
}

// stat stats file (lstat when links are refused).
func stat(file string, symlinks bool) (fs.FileMode, error) {
	var st fs.FileInfo
	var err error
	if symlinks {
		st, err = os.Stat(file)
	} else {
		st, err = os.Lstat(file)
	}
	switch {
	case errors.Is(err, fs.ErrPermission):
		return 0, &StatusError{Status: 403, Err: err}
	case err != nil:
		return 0, &StatusError{Status: 404, Err: err}
	case st.Mode()&fs.ModeSymlink != 0:
		return 0, &StatusError{Status: 403, Err: errors.New("symbolic link")}
	}
	return st.Mode(), nil
}

// ContentLength returns the value of the Content-Length header; ok is false
// when there is none, it is not a number, or a Transfer-Encoding header is
// present (the length is then unknown).
func ContentLength(headers []Header) (n int64, ok bool) {
	found := false
	for _, h := range headers {
		switch {
		case strings.EqualFold(string(h.Name), "Transfer-Encoding"):
			return 0, false
		case strings.EqualFold(string(h.Name), "Content-Length") && !found:
			v, err := strconv.ParseInt(strings.TrimSpace(string(h.Value)), 10, 64)
			if err != nil || v < 0 {
				return 0, false
			}
			n, found = v, true
		}
	}
	return n, found
}

// DefaultMaxSpool is the largest body of unknown length [Spool] keeps.
const DefaultMaxSpool = 64 << 20

// Spool copies body to an unlinked temporary file, so that a body of
// unknown length (chunked, HTTP/2) gets a CONTENT_LENGTH, which CGI
// requires. It returns the file positioned at its start and the length; a
// body over max bytes (0 means [DefaultMaxSpool]) is a 413
// [*StatusError]. The caller closes the file.
func Spool(body io.Reader, max int64) (*os.File, int64, error) {
	if max <= 0 {
		max = DefaultMaxSpool
	}
	f, err := os.CreateTemp("", "gibbon-body-*")
	if err != nil {
		return nil, 0, err
	}
	os.Remove(f.Name())
	n, err := io.Copy(f, io.LimitReader(body, max+1))
	if err == nil && n > max {
		err = &StatusError{Status: 413, Err: errors.New("request body too large")}
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, n, nil
}
