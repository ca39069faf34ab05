package cgihead

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Script is the script a request path names, found by [Locate].
type Script struct {
	// Filename is the file system path (SCRIPT_FILENAME).
	Filename string
	// Name is the URL path of the script (SCRIPT_NAME).
	Name string
	// PathInfo is the rest of the request path (PATH_INFO), "" or
	// beginning with "/".
	PathInfo string
}

// StatusError is a status [Locate] or [Spool] answers with: 404 (nothing
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

// Locate finds the script of the clean, decoded path p below root, as CGI
// servers do: it walks p from the root one segment at a time, and the first
// segment that is a regular file is the script; the rest of p is PATH_INFO
// ("/index.php/some/route" → script "/index.php", PATH_INFO "/some/route").
// When every segment is a directory and p ends in "/", the first of
// indexFiles that is a regular file there is the script. With symlinks
// false a symbolic link on the way answers 403; with it true links are
// followed.
func Locate(root, p string, indexFiles []string, symlinks bool) (Script, error) {
	if root == "" || !strings.HasPrefix(p, "/") {
		return Script{}, &StatusError{Status: 500, Err: errors.New("no document root")}
	}
	root = strings.TrimSuffix(root, "/")
	for j := 1; j <= len(p); j++ {
		if j < len(p) && p[j] != '/' {
			continue
		}
		prefix := p[:j]
		if prefix == "/" || strings.HasSuffix(prefix, "/") {
			continue
		}
		file := root + prefix
		mode, err := kind(file, symlinks)
		if err != nil {
			return Script{}, err
		}
		switch {
		case mode.IsRegular():
			return Script{Filename: file, Name: prefix, PathInfo: p[j:]}, nil
		case !mode.IsDir():
			return Script{}, &StatusError{Status: 403, Err: errors.New("not a regular file")}
		}
	}
	if !strings.HasSuffix(p, "/") {
		return Script{}, &StatusError{Status: 301}
	}
	for _, name := range indexFiles {
		file := root + p + name
		mode, err := kind(file, symlinks)
		if err == nil && mode.IsRegular() {
			return Script{Filename: file, Name: p + name}, nil
		}
	}
	return Script{}, &StatusError{Status: 404, Err: errors.New("no index file")}
}

// kind stats file (lstat when links are refused).
func kind(file string, symlinks bool) (fs.FileMode, error) {
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
