package vhost

import (
	"errors"
	"fmt"
	"strings"

	"gibbon/config"
)

// MaxHostLen is the longest host name (after the port is removed) that
// Lookup will match; longer names get the default host. DNS names are at
// most 253 bytes, so no configured name can be longer.
const MaxHostLen = 255

// VHost is one virtual host. Its fields are read-only after [New] returns;
// a VHost is shared by every request that matches it.
type VHost struct {
	// Names are the server names, normalised (lower case, no trailing
	// dot), in the order written. Wildcards keep their "*." prefix.
	Names []string
	// DocumentRoot is the directory files are served from, as given by
	// config (config makes it absolute).
	DocumentRoot string
	// Redirect is a URL prefix every request is redirected to, "" if none.
	Redirect string
	// ErrorPages maps a status code to a file name relative to
	// DocumentRoot. It may be nil.
	ErrorPages map[int]string
	// Config is a copy of the host's configuration, for plugins that read
	// their own sections.
	Config *config.Host
}

// Table finds the VHost for a request's Host. The zero value is not usable;
// build one with [New]. A Table is immutable and safe for concurrent use.
type Table struct {
	hosts    []*VHost
	exact    map[string]*VHost // normalised name → host
	wildcard map[string]*VHost // ".suffix" (with the leading dot) → host
}

// New builds a Table. hosts[0] is the default host, answering every Host
// that no name matches. It is an error to pass no host, to give an empty or
// malformed name ("*", "*example.com", "a.*.com"), or to give the same name
// to two hosts (or twice to one).
func New(hosts []config.Host) (*Table, error) {
	if len(hosts) == 0 {
		return nil, errors.New("vhost: no host configured")
	}
	t := &Table{
		hosts:    make([]*VHost, 0, len(hosts)),
		exact:    make(map[string]*VHost),
		wildcard: make(map[string]*VHost),
	}
	owner := make(map[string]string) // normalised name → file that declared it
	var errs []error
	for i := range hosts {
		h := hosts[i] // copy: the Table must not change when the caller's slice does
		vh := &VHost{
			Names:        make([]string, 0, len(h.ServerNames)),
			DocumentRoot: h.DocumentRoot,
			Redirect:     h.Redirect,
			ErrorPages:   h.ErrorPages,
			Config:       &h,
		}
		for _, raw := range h.ServerNames {
			name, err := normaliseName(raw)
			if err != nil {
				errs = append(errs, fmt.Errorf("vhost: %s: server name %q: %w", h.File, raw, err))
				continue
			}
			if prev, dup := owner[name]; dup {
				errs = append(errs, fmt.Errorf("vhost: %s: server name %q already used by %s", h.File, raw, prev))
				continue
			}
			owner[name] = h.File
			vh.Names = append(vh.Names, name)
			if suffix, ok := strings.CutPrefix(name, "*"); ok {
				t.wildcard[suffix] = vh
			} else {
				t.exact[name] = vh
			}
		}
		t.hosts = append(t.hosts, vh)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// normaliseName lower-cases a configured name and drops one trailing dot,
// checking that a wildcard has the form "*.suffix".
func normaliseName(raw string) (string, error) {
	name := strings.ToLower(strings.TrimSpace(raw))
	name = strings.TrimSuffix(name, ".")
	switch {
	case name == "":
		return "", errors.New("empty name")
	case len(name) > MaxHostLen:
		return "", fmt.Errorf("longer than %d bytes", MaxHostLen)
	case strings.ContainsAny(name, " \t/\\"):
		return "", errors.New("contains a space, tab, slash or backslash")
	}
	if rest, ok := strings.CutPrefix(name, "*"); ok {
		if len(rest) < 2 || rest[0] != '.' || strings.Contains(rest, "*") || strings.Contains(rest, "..") {
			return "", errors.New(`a wildcard must have the form "*.suffix"`)
		}
		return name, nil
	}
	if strings.Contains(name, "*") {
		return "", errors.New(`"*" is allowed only as the first label`)
	}
	return name, nil
}

// Default returns the default (first) host.
func (t *Table) Default() *VHost { return t.hosts[0] }

// Hosts returns every host in configuration order, the default first. The
// slice must not be modified.
func (t *Table) Hosts() []*VHost { return t.hosts }

// Lookup returns the VHost for host, the value of the Host header or the
// authority of an absolute-form target (it may carry a port). It never
// returns nil and does not allocate.
func (t *Table) Lookup(host []byte) *VHost {
	var buf [MaxHostLen]byte
	name, ok := normaliseHost(&buf, host)
	if !ok {
		return t.hosts[0]
	}
	if vh, ok := t.exact[string(name)]; ok {
		return vh
	}
	if len(t.wildcard) > 0 {
		// The first dot after position 0 gives the longest suffix, so the
		// first hit is the longest matching wildcard.
		for i := 1; i < len(name); i++ {
			if name[i] != '.' {
				continue
			}
			if vh, ok := t.wildcard[string(name[i:])]; ok {
				return vh
			}
		}
	}
	return t.hosts[0]
}

// normaliseHost copies host into buf without its port and trailing dot,
// lower-cased. It reports false for an empty or too long name.
func normaliseHost(buf *[MaxHostLen]byte, host []byte) ([]byte, bool) {
	if len(host) > 0 && host[0] == '[' {
		// IP literal: keep "[...]", drop anything after ']'.
		end := -1
		for i, c := range host {
			if c == ']' {
				end = i
				break
			}
		}
		if end < 0 {
			return nil, false
		}
		host = host[:end+1]
	} else {
		for i, c := range host {
			if c == ':' {
				host = host[:i]
				break
			}
		}
		if n := len(host); n > 0 && host[n-1] == '.' {
			host = host[:n-1]
		}
	}
	if len(host) == 0 || len(host) > MaxHostLen {
		return nil, false
	}
	for i, c := range host {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(host)], true
}
