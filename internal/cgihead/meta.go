package cgihead

import (
	"strconv"
	"strings"
)

// Var is one meta-variable.
type Var struct{ Name, Value string }

// Header is one request header line, as the plugins hold it (views are
// fine: Append copies what it keeps).
type Header struct{ Name, Value []byte }

// Meta is the request as RFC 3875 §4.1 describes it. The plugins fill it
// from the request and the script they found; [Meta.Append] renders it.
type Meta struct {
	Method         string // REQUEST_METHOD
	RequestURI     string // REQUEST_URI: the target as sent
	Query          string // QUERY_STRING
	ScriptName     string // SCRIPT_NAME: URL path of the script
	ScriptFilename string // SCRIPT_FILENAME: file system path of the script
	PathInfo       string // PATH_INFO: the rest of the path; PATH_TRANSLATED follows it
	DocumentRoot   string // DOCUMENT_ROOT
	ServerName     string // SERVER_NAME: Host without port, else the vhost name
	ServerAddr     string // SERVER_ADDR
	ServerPort     string // SERVER_PORT
	ServerProtocol string // SERVER_PROTOCOL, "HTTP/1.1"
	ServerSoftware string // SERVER_SOFTWARE
	RemoteAddr     string // REMOTE_ADDR
	RemotePort     string // REMOTE_PORT
	RemoteUser     string // REMOTE_USER, with AUTH_TYPE from the Authorization scheme
	HTTPS          bool   // HTTPS=on
	// ContentLength is CONTENT_LENGTH; below 0 it is left out (no body).
	ContentLength int64
	Headers       []Header // every request header → HTTP_*
}

// Append appends the meta-variables of m to dst: the RFC 3875 set, the
// usual extensions (REQUEST_URI, SCRIPT_FILENAME, DOCUMENT_ROOT, HTTPS,
// SERVER_ADDR, REMOTE_PORT, REDIRECT_STATUS=200 for php-cgi) and one
// HTTP_<NAME> per request header name (repeated headers joined with ", ",
// Cookie with "; "). Content-Type and Content-Length become CONTENT_TYPE
// and CONTENT_LENGTH; a Proxy header is dropped (httpoxy, CVE-2016-5385);
// a header whose name holds anything but letters, digits, '-' and '_' is
// dropped; and a name with '_' is dropped too, so "X_Foo" cannot pose as
// "X-Foo" (nginx and Apache do the same).
func (m *Meta) Append(dst []Var) []Var {
	dst = append(dst,
		Var{"GATEWAY_INTERFACE", "CGI/1.1"},
		Var{"SERVER_SOFTWARE", m.ServerSoftware},
		Var{"SERVER_NAME", m.ServerName},
		Var{"SERVER_ADDR", m.ServerAddr},
		Var{"SERVER_PORT", m.ServerPort},
		Var{"SERVER_PROTOCOL", m.ServerProtocol},
		Var{"REQUEST_METHOD", m.Method},
		Var{"REQUEST_URI", m.RequestURI},
		Var{"QUERY_STRING", m.Query},
		Var{"SCRIPT_NAME", m.ScriptName},
		Var{"SCRIPT_FILENAME", m.ScriptFilename},
		Var{"DOCUMENT_ROOT", m.DocumentRoot},
		Var{"REMOTE_ADDR", m.RemoteAddr},
		Var{"REMOTE_PORT", m.RemotePort},
		Var{"REDIRECT_STATUS", "200"},
	)
	if m.PathInfo != "" {
		dst = append(dst, Var{"PATH_INFO", m.PathInfo},
			Var{"PATH_TRANSLATED", strings.TrimSuffix(m.DocumentRoot, "/") + m.PathInfo})
	} else {
		dst = append(dst, Var{"PATH_INFO", ""})
	}
	if m.HTTPS {
		dst = append(dst, Var{"HTTPS", "on"}, Var{"REQUEST_SCHEME", "https"})
	} else {
		dst = append(dst, Var{"REQUEST_SCHEME", "http"})
	}
	if m.RemoteUser != "" {
		dst = append(dst, Var{"REMOTE_USER", m.RemoteUser})
		if t := m.authType(); t != "" {
			dst = append(dst, Var{"AUTH_TYPE", t})
		}
	}
	if m.ContentLength >= 0 {
		dst = append(dst, Var{"CONTENT_LENGTH", strconv.FormatInt(m.ContentLength, 10)})
	}
	base := len(dst)
	for _, h := range m.Headers {
		name, ok := varName(h.Name)
		if !ok {
			continue
		}
		if i := index(dst[base:], name); i >= 0 {
			sep := ", "
			if name == "HTTP_COOKIE" {
				sep = "; "
			}
			dst[base+i].Value += sep + string(h.Value)
			continue
		}
		dst = append(dst, Var{name, string(h.Value)})
	}
	return dst
}

// authType returns the scheme of the Authorization header ("Basic").
func (m *Meta) authType() string {
	for _, h := range m.Headers {
		if strings.EqualFold(string(h.Name), "Authorization") {
			s, _, _ := strings.Cut(strings.TrimSpace(string(h.Value)), " ")
			return s
		}
	}
	return ""
}

func index(vs []Var, name string) int {
	for i := range vs {
		if vs[i].Name == name {
			return i
		}
	}
	return -1
}

// varName maps a header name to its meta-variable: "User-Agent" →
// "HTTP_USER_AGENT", "Content-Type" → "CONTENT_TYPE". ok is false for a
// header that must not become a variable (see [Meta.Append]).
func varName(name []byte) (v string, ok bool) {
	if len(name) == 0 {
		return "", false
	}
	b := make([]byte, 0, 5+len(name))
	b = append(b, "HTTP_"...)
	for _, c := range name {
		switch {
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-':
			c = '_'
		default:
			return "", false
		}
		b = append(b, c)
	}
	switch s := string(b); s {
	case "HTTP_PROXY":
		return "", false
	case "HTTP_CONTENT_TYPE":
		return "CONTENT_TYPE", true
	case "HTTP_CONTENT_LENGTH":
		return "", false // CONTENT_LENGTH comes from the body actually sent
	default:
		return s, true
	}
}

// Environ renders vars as "NAME=value" strings for os/exec.
func Environ(vars []Var) []string {
	out := make([]string, len(vars))
	for i, v := range vars {
		out[i] = v.Name + "=" + v.Value
	}
	return out
}
