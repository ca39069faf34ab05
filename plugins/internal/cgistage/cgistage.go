package cgistage

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"gibbon/internal/cgihead"
	"gibbon/stage"
	"gibbon/static"
)

// RequestBody returns what the script reads (on stdin, or as FastCGI
// STDIN) and CONTENT_LENGTH (-1: no body). A body of unknown length
// (chunked) is spooled to a temporary file first, since CGI needs its
// length. done releases the spool; it is never nil. name prefixes the
// errors ("cgi", "fastcgi").
func RequestBody(r *stage.Request, name string) (body io.Reader, length int64, done func(), err error) {
	done = func() {}
	if r.Body == nil {
		return nil, -1, done, nil
	}
	if n, ok := cgihead.ContentLength(headers(r)); ok {
		return io.LimitReader(r.Body, n), n, done, nil
	}
	if r.Header("Transfer-Encoding") == nil {
		return nil, -1, done, nil
	}
	f, n, err := cgihead.Spool(r.Body, 0)
	if err != nil {
		var se *cgihead.StatusError
		if errors.As(err, &se) {
			return nil, 0, done, stage.Error(se.Status, err)
		}
		return nil, 0, done, fmt.Errorf("%s: spooling the request body: %w", name, err)
	}
	return f, n, func() { f.Close() }, nil
}

func headers(r *stage.Request) []cgihead.Header {
	hs := make([]cgihead.Header, len(r.Headers))
	for i, h := range r.Headers {
		hs[i] = cgihead.Header{Name: h.Name, Value: h.Value}
	}
	return hs
}

// Meta fills the meta-variables of r for script s, whose body is length
// bytes long (-1: no body).
func Meta(r *stage.Request, s cgihead.Script, length int64) *cgihead.Meta {
	m := &cgihead.Meta{
		Method:         string(r.MethodName),
		RequestURI:     string(r.Target),
		Query:          r.Query,
		ScriptName:     s.Name,
		ScriptFilename: s.Filename,
		PathInfo:       s.PathInfo,
		DocumentRoot:   r.VHost.DocumentRoot,
		ServerName:     serverName(r),
		ServerAddr:     r.Conn.Local.Addr().Unmap().String(),
		ServerPort:     strconv.Itoa(int(r.Conn.Local.Port())),
		ServerProtocol: protocol(r),
		ServerSoftware: "gibbon",
		RemoteAddr:     r.Conn.Remote.Addr().Unmap().String(),
		RemotePort:     strconv.Itoa(int(r.Conn.Remote.Port())),
		RemoteUser:     r.User,
		HTTPS:          r.Conn.TLS,
		ContentLength:  length,
		Headers:        headers(r),
	}
	if m.RequestURI == "" {
		m.RequestURI = stage.EscapePath(r.Path)
		if r.Query != "" {
			m.RequestURI += "?" + r.Query
		}
	}
	return m
}

// serverName is the Host header without its port, else the vhost's name.
func serverName(r *stage.Request) string {
	host := string(r.Host)
	if host == "" {
		return r.VHost.Name
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.Trim(host, "[]")
}

// protocol is SERVER_PROTOCOL: the HTTP/1.x version, else HTTP/2.0.
func protocol(r *stage.Request) string {
	if s := r.Proto.String(); strings.HasPrefix(s, "HTTP/") {
		return s
	}
	return "HTTP/2.0"
}

// WriteHead copies the script's head to w, with Content-Type mimetype when
// the head has none and mimetype is not "".
func WriteHead(w stage.ResponseWriter, head *cgihead.Head, mimetype string) {
	hd := w.Header()
	for _, f := range head.Fields {
		hd.Add(f.Name, f.Value)
	}
	if head.ContentType == "" && mimetype != "" {
		hd.Set("Content-Type", mimetype)
	}
	w.WriteHeader(head.Code())
}

// LocalRedirect turns "Location: /path?query" into a
// *stage.InternalRedirect. A location that does not clean is a
// [stage.Error] with status, its message prefixed by name.
func LocalRedirect(loc, name string, status int) error {
	p, q, _ := strings.Cut(loc, "?")
	clean, bad := static.CleanPath([]byte(p))
	if bad != 0 {
		return stage.Error(status, fmt.Errorf("%s: bad local redirect %q", name, loc))
	}
	return &stage.InternalRedirect{Path: clean, Query: q}
}

// Duration reads whole seconds ("30") or a Go duration ("1.5s"); it must
// be positive.
func Duration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if n, aerr := strconv.Atoi(v); aerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil {
		return 0, errors.New("want seconds or a duration such as 500ms")
	}
	if d <= 0 {
		return 0, errors.New("must be positive")
	}
	return d, nil
}
