package fastcgi

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"gibbon/internal/cgihead"
	"gibbon/stage"
)

// requestBody returns what is sent as STDIN and CONTENT_LENGTH (-1: no
// body). A body of unknown length (chunked) is spooled to a temporary file
// first: PHP reads CONTENT_LENGTH bytes. done releases the spool.
func requestBody(r *stage.Request) (body io.Reader, length int64, done func(), err error) {
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
		return nil, 0, done, fmt.Errorf("fastcgi: spooling the request body: %w", err)
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

// meta fills the meta-variables of r for script s.
func meta(r *stage.Request, s cgihead.Script, length int64) *cgihead.Meta {
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
