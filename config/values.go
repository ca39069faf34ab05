package config

import (
	"fmt"
	"mime"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// parseBool accepts on/off and true/false, in any case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "true":
		return true, nil
	case "off", "false":
		return false, nil
	}
	return false, fmt.Errorf("bad boolean %q: want on, off, true or false", s)
}

// parseCount parses a non-negative decimal integer of at most max.
func parseCount(s string, max int64) (int64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("bad number %q: want a non-negative decimal integer", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > max {
		return 0, fmt.Errorf("number %s too large (at most %d)", s, max)
	}
	return n, nil
}

// maxSeconds keeps a count of seconds representable as a time.Duration.
const maxSeconds = int64(1<<63-1) / int64(time.Second)

// parseSeconds parses a whole number of seconds; zero is refused when
// positive is set.
func parseSeconds(s string, positive bool) (time.Duration, error) {
	n, err := parseCount(s, maxSeconds)
	if err != nil {
		return 0, err
	}
	if positive && n == 0 {
		return 0, fmt.Errorf("must be greater than 0")
	}
	return time.Duration(n) * time.Second, nil
}

// listenFlags are the words allowed after a Listen address.
var listenFlags = map[string]bool{"tls": true, "h2": true, "h2c": true}

// parseListen parses "port", "addr:port" or "[v6]:port", then flags.
func parseListen(s string) (Listen, error) {
	fields := strings.Fields(s)
	addr, err := parseListenAddr(fields[0])
	if err != nil {
		return Listen{}, err
	}
	l := Listen{Addr: addr}
	for _, f := range fields[1:] {
		f = strings.ToLower(f)
		if !listenFlags[f] {
			return Listen{}, fmt.Errorf("unknown Listen flag %q: want tls, h2 or h2c", f)
		}
		if !contains(l.Flags, f) {
			l.Flags = append(l.Flags, f)
		}
	}
	switch {
	case l.Has("h2") && !l.Has("tls"):
		return Listen{}, fmt.Errorf("flag h2 needs tls (HTTP/2 over TLS); use h2c for cleartext HTTP/2")
	case l.Has("h2c") && l.Has("tls"):
		return Listen{}, fmt.Errorf("flag h2c is cleartext HTTP/2 and cannot go with tls; use tls h2")
	}
	return l, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func parseListenAddr(s string) (string, error) {
	var host, port string
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", fmt.Errorf("bad address %q: missing ']' after the IPv6 address", s)
		}
		host, port = s[1:end], s[end+1:]
		if !strings.HasPrefix(port, ":") {
			return "", fmt.Errorf("bad address %q: want [IPv6]:port", s)
		}
		port = port[1:]
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return "", fmt.Errorf("bad address %q: %q is not an IPv6 address", s, host)
		}
	case strings.Contains(s, ":"):
		i := strings.LastIndexByte(s, ':')
		host, port = s[:i], s[i+1:]
		if strings.Contains(host, ":") {
			return "", fmt.Errorf("bad address %q: put an IPv6 address in brackets, as [::1]:2001", s)
		}
		if host == "" {
			break // ":port" is the same as "port"
		}
		if _, err := netip.ParseAddr(host); err != nil && !validHostname(host) {
			return "", fmt.Errorf("bad address %q: %q is neither an IP address nor a host name", s, host)
		}
	default:
		port = s
	}
	n, err := parseCount(port, 65535)
	if err != nil || port == "" {
		return "", fmt.Errorf("bad port %q in %q: want 0 to 65535", port, s)
	}
	p := strconv.FormatInt(n, 10)
	if host == "" {
		return ":" + p, nil
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + p, nil
	}
	return host + ":" + p, nil
}

// validHostname accepts DNS-like names: labels of letters, digits, '-' and
// '_' separated by dots, at most 253 bytes, no empty label.
func validHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			case c == '-' || c == '_':
			default:
				return false
			}
		}
	}
	return true
}

// parseServerName checks one ServerName word and returns it lower-cased,
// without a trailing dot. "*.example.com" is the only use of '*'.
func parseServerName(s string) (string, error) {
	name := strings.TrimSuffix(strings.ToLower(s), ".")
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		if a, err := netip.ParseAddr(name[1 : len(name)-1]); err == nil && a.Is6() {
			return name, nil
		}
		return "", fmt.Errorf("bad server name %q: not an IPv6 address", s)
	}
	rest := name
	if strings.HasPrefix(name, "*.") {
		rest = name[2:]
	}
	if strings.Contains(rest, "*") {
		return "", fmt.Errorf("bad server name %q: '*' is only allowed as the whole first label, as in *.example.com", s)
	}
	if !validHostname(rest) {
		return "", fmt.Errorf("bad server name %q: want a host name, an IP address or *.domain", s)
	}
	return name, nil
}

// parseMediaType checks a MIME type such as "text/html" or
// "text/html; charset=utf-8".
func parseMediaType(s string) error {
	mt, _, err := mime.ParseMediaType(s)
	if err != nil || !strings.Contains(mt, "/") {
		return fmt.Errorf("bad MIME type %q: want type/subtype", s)
	}
	return nil
}

// parseRedirect checks a Redirect target: an absolute http or https URL.
// A trailing '/' is removed, since the request path is appended to it.
func parseRedirect(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("bad Redirect %q: want an absolute http:// or https:// URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("bad Redirect %q: the request path is appended, so no query or fragment", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// parseStatus parses an error page status: a three-digit code 400-599.
func parseStatus(s string) (int, error) {
	n, err := parseCount(s, 999)
	if err != nil || len(s) != 3 || n < 400 || n > 599 {
		return 0, fmt.Errorf("bad status %q: want an error status from 400 to 599", s)
	}
	return int(n), nil
}

// hasDotDot reports whether a slash-separated path has a ".." element.
func hasDotDot(p string) bool {
	for _, part := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' }) {
		if part == ".." {
			return true
		}
	}
	return false
}
