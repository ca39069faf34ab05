package config

import (
	"path/filepath"
	"strconv"
	"strings"
)

// Host is one virtual host: a file under sites/.
type Host struct {
	// File is the site file the host was read from ("" for [Default]).
	File string
	// ServerNames are the names from every ServerName key, lower-case,
	// without a trailing dot, each once. A name may be a wildcard
	// "*.example.com" (one or more labels before example.com). The
	// default host may have none.
	ServerNames []string
	// DocumentRoot is the directory served. After Load it is absolute: a
	// relative DocumentRoot is taken relative to the config directory.
	// Load does not check that it exists.
	DocumentRoot string
	// Redirect, when not "", is an absolute http(s) URL without a trailing
	// '/': every request to the host is answered with a redirect to
	// Redirect + request path.
	Redirect string
	// ErrorPages maps a status (400-599) to a file name relative to
	// DocumentRoot (Monkey's rule). Never nil.
	ErrorPages map[int]string
	// CertificateFile and KeyFile, when set (both or neither), are the PEM
	// certificate (leaf first, then intermediates) and private key served
	// to TLS clients that ask for one of ServerNames by SNI. After Load
	// they are absolute: relative paths are taken relative to the config
	// directory.
	CertificateFile, KeyFile string
	// Sections are the other sections of the file ([LOGGER], [HANDLERS],
	// [AUTH] ...) in order, for the plugins that own them.
	Sections []*Section
}

var hostKeyNames = []string{"ServerName", "DocumentRoot", "Redirect", "CertificateFile", "KeyFile"}

// decodeHost builds a Host from the sections of one site file. names maps
// every server name already taken to the place that took it.
func decodeHost(file string, secs []*Section, dir string, isDefault bool, names map[string]string, ws *[]Warning, errs *errorList) Host {
	h := Host{File: file, ErrorPages: make(map[int]string)}
	var hostSecs, pageSecs []*Section
	for _, sec := range secs {
		switch sec.Name {
		case "HOST":
			hostSecs = append(hostSecs, sec)
		case "ERROR_PAGES":
			pageSecs = append(pageSecs, sec)
		case "SERVER", "MIMETYPES", "PLUGINS":
			errs.add(sec.File, sec.Line, "["+sec.Name+"]", "section belongs in %s, not in a site file", homeOf(sec.Name))
		default:
			h.Sections = append(h.Sections, sec) // for plugins; stage.Load warns about unread ones
		}
	}
	if len(hostSecs) == 0 {
		errs.add(file, 0, "[HOST]", "missing section")
		return h
	}
	var root, redirect, certFile, keyFile *Entry
	var nameEntries []Entry
	for _, sec := range hostSecs {
		for _, e := range sec.Entries {
			switch {
			case strings.EqualFold(e.Key, "ServerName"):
				nameEntries = append(nameEntries, e)
			case strings.EqualFold(e.Key, "DocumentRoot"):
				setOnce(&root, e, errs)
			case strings.EqualFold(e.Key, "Redirect"):
				setOnce(&redirect, e, errs)
			case strings.EqualFold(e.Key, "CertificateFile"):
				setOnce(&certFile, e, errs)
			case strings.EqualFold(e.Key, "KeyFile"):
				setOnce(&keyFile, e, errs)
			default:
				errs.addErr(unknownKey(e, "[HOST]", hostKeyNames))
			}
		}
	}
	for _, e := range nameEntries {
		for _, w := range strings.Fields(e.Value) {
			n, err := parseServerName(w)
			if err != nil {
				errs.add(e.File, e.Line, e.Key, "%v", err)
				continue
			}
			place := e.File + ":" + strconv.Itoa(e.Line)
			if prev, ok := names[n]; ok {
				if contains(h.ServerNames, n) {
					*ws = append(*ws, e.warn("name %s repeated (also at %s)", n, prev))
				} else {
					errs.add(e.File, e.Line, e.Key, "name %s already belongs to the host at %s", n, prev)
				}
				continue
			}
			names[n] = place
			h.ServerNames = append(h.ServerNames, n)
		}
	}
	if len(nameEntries) == 0 && !isDefault {
		errs.add(hostSecs[0].File, hostSecs[0].Line, "ServerName", "missing; only the default host may go without one")
	}
	if root == nil {
		errs.add(hostSecs[0].File, hostSecs[0].Line, "DocumentRoot", "missing")
	} else if strings.ContainsRune(root.Value, 0) {
		errs.add(root.File, root.Line, root.Key, "bad path")
	} else if filepath.IsAbs(root.Value) {
		h.DocumentRoot = filepath.Clean(root.Value)
	} else {
		h.DocumentRoot = filepath.Join(dir, root.Value)
	}
	if redirect != nil {
		r, err := parseRedirect(redirect.Value)
		if err != nil {
			errs.add(redirect.File, redirect.Line, redirect.Key, "%v", err)
		}
		h.Redirect = r
	}
	h.CertificateFile, h.KeyFile = hostCert(certFile, keyFile, dir, errs)
	seen := make(map[int]Entry)
	for _, sec := range pageSecs {
		for _, e := range sec.Entries {
			code, err := parseStatus(e.Key)
			if err != nil {
				errs.add(e.File, e.Line, e.Key, "%v", err)
				continue
			}
			if prev, ok := seen[code]; ok {
				errs.add(e.File, e.Line, e.Key, "already set at %s:%d", prev.File, prev.Line)
				continue
			}
			if hasDotDot(e.Value) {
				errs.add(e.File, e.Line, e.Key, "bad error page %q: must stay inside DocumentRoot", e.Value)
				continue
			}
			seen[code] = e
			h.ErrorPages[code] = e.Value
		}
	}
	return h
}

// hostCert returns the absolute certificate and key paths of a host;
// the two keys go together.
func hostCert(certFile, keyFile *Entry, dir string, errs *errorList) (string, string) {
	switch {
	case certFile == nil && keyFile == nil:
		return "", ""
	case keyFile == nil:
		errs.add(certFile.File, certFile.Line, certFile.Key, "needs a KeyFile in the same [HOST]")
		return "", ""
	case certFile == nil:
		errs.add(keyFile.File, keyFile.Line, keyFile.Key, "needs a CertificateFile in the same [HOST]")
		return "", ""
	}
	abs := func(e *Entry) string {
		if strings.ContainsRune(e.Value, 0) {
			errs.add(e.File, e.Line, e.Key, "bad path")
			return ""
		}
		if filepath.IsAbs(e.Value) {
			return filepath.Clean(e.Value)
		}
		return filepath.Join(dir, e.Value)
	}
	return abs(certFile), abs(keyFile)
}

func setOnce(dst **Entry, e Entry, errs *errorList) {
	if *dst != nil {
		errs.add(e.File, e.Line, e.Key, "already set at %s:%d", (*dst).File, (*dst).Line)
		return
	}
	*dst = &e
}

// homeOf names the file a core section belongs in.
func homeOf(section string) string {
	switch section {
	case "SERVER":
		return "gibbon.conf"
	case "HOST", "ERROR_PAGES":
		return "a file under sites/"
	case "MIMETYPES":
		return "gibbon.mime"
	case "PLUGINS":
		return "plugins.load"
	}
	return "?"
}
