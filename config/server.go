package config

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Defaults of [SERVER], as returned by [DefaultServer]. They are Monkey's
// shipped defaults. docs/CONFIG.md holds the same table (a test keeps them
// identical).
const (
	DefaultListen              = ":2001"
	DefaultWorkers             = 0
	DefaultTimeout             = 15 * time.Second
	DefaultKeepAlive           = true
	DefaultKeepAliveTimeout    = 5 * time.Second
	DefaultMaxKeepAliveRequest = 1000
	DefaultMaxRequestSize      = 32 << 10 // bytes
	DefaultHideVersion         = false
	DefaultResume              = true
	DefaultSymLink             = false
	DefaultMimeType            = "text/plain"
	DefaultWorkerCapacity      = 0
)

// defaultIndexFiles is the default of Indexfile.
var defaultIndexFiles = []string{"index.html", "index.htm"}

// Listen is one listening address with its flags.
type Listen struct {
	// Addr is "host:port" ready for net.Listen: ":2001" for a bare port,
	// "127.0.0.1:80", "[::1]:80". Port 0 asks the kernel for a free port.
	Addr string
	// Flags are the lower-case words written after the address, each once,
	// in order: "tls", "h2", "h2c". h2 needs tls; h2c excludes tls.
	Flags []string
}

// Has reports whether the listener carries flag (lower-case).
func (l Listen) Has(flag string) bool { return contains(l.Flags, flag) }

// Server is the [SERVER] section. The zero value is not the default: start
// from [DefaultServer]. Each field names its key, unit and meaning; the
// defaults are in [DefaultServer] and docs/CONFIG.md.
type Server struct {
	Listen              []Listen      // Listen (repeatable); at least one after Load
	Workers             int           // Workers; 0 = one per CPU
	Timeout             time.Duration // Timeout, whole seconds in the file; > 0
	KeepAlive           bool          // KeepAlive: persistent connections allowed
	KeepAliveTimeout    time.Duration // KeepAliveTimeout, whole seconds in the file; > 0
	MaxKeepAliveRequest int           // MaxKeepAliveRequest: requests per connection; > 0
	MaxRequestSize      int64         // MaxRequestSize: bytes (the file value is KiB); > 0; head plus body
	IndexFiles          []string      // Indexfile: names tried in order for a directory
	HideVersion         bool          // HideVersion: Server header without the version
	Resume              bool          // Resume: range requests allowed
	SymLink             bool          // SymLink: symbolic links are followed
	DefaultMimeType     string        // DefaultMimeType: type of files with an unknown extension
	User                string        // User: user to switch to after binding; "" = stay
	PidFile             string        // PidFile: absolute after Load (relative to the config dir); "" = none
	UserDir             string        // UserDir: directory under a home served as /~user; "" = off
	Balancing           string        // Balancing: "" (engine default), "reuseport" or "fair"
	WorkerCapacity      int           // WorkerCapacity: clients per worker; 0 = derive from RLIMIT_NOFILE
	Admin               string        // Admin: "unix:/abs/path" (absolute after Load) or a loopback "host:port"; "" = no admin endpoint
}

// DefaultServer returns the defaults of every [SERVER] key, Listen :2001
// included. Each call returns fresh slices.
func DefaultServer() Server {
	return Server{
		Listen:              []Listen{{Addr: DefaultListen}},
		Workers:             DefaultWorkers,
		Timeout:             DefaultTimeout,
		KeepAlive:           DefaultKeepAlive,
		KeepAliveTimeout:    DefaultKeepAliveTimeout,
		MaxKeepAliveRequest: DefaultMaxKeepAliveRequest,
		MaxRequestSize:      DefaultMaxRequestSize,
		IndexFiles:          append([]string(nil), defaultIndexFiles...),
		HideVersion:         DefaultHideVersion,
		Resume:              DefaultResume,
		SymLink:             DefaultSymLink,
		DefaultMimeType:     DefaultMimeType,
		WorkerCapacity:      DefaultWorkerCapacity,
	}
}

const maxInt32 = 1<<31 - 1

// serverKey describes one [SERVER] key: how to parse it and how to
// document it. The docs table in docs/CONFIG.md is generated from
// serverKeys and DefaultServer.
type serverKey struct {
	name   string // canonical spelling
	typ    string // value type, for the docs
	unit   string
	repeat bool // may appear more than once
	doc    string
	// set parses v into s. A non-empty warning is reported and the entry
	// otherwise accepted.
	set func(s *Server, v string) (warning string, err error)
	// show formats the value of s in file syntax, for the docs.
	show func(s *Server) string
}

func boolKey(name, doc string, field func(*Server) *bool) serverKey {
	return serverKey{name: name, typ: "bool", doc: doc,
		set: func(s *Server, v string) (string, error) {
			b, err := parseBool(v)
			*field(s) = b
			return "", err
		},
		show: func(s *Server) string {
			if *field(s) {
				return "on"
			}
			return "off"
		},
	}
}

func secondsKey(name, doc string, field func(*Server) *time.Duration) serverKey {
	return serverKey{name: name, typ: "integer > 0", unit: "seconds", doc: doc,
		set: func(s *Server, v string) (string, error) {
			d, err := parseSeconds(v, true)
			*field(s) = d
			return "", err
		},
		show: func(s *Server) string { return strconv.FormatInt(int64(*field(s)/time.Second), 10) },
	}
}

func countKey(name, typ, doc string, min, max int64, field func(*Server) *int) serverKey {
	return serverKey{name: name, typ: typ, doc: doc,
		set: func(s *Server, v string) (string, error) {
			n, err := parseCount(v, max)
			if err != nil {
				return "", err
			}
			if n < min {
				return "", fmt.Errorf("must be at least %d", min)
			}
			*field(s) = int(n)
			return "", nil
		},
		show: func(s *Server) string { return strconv.Itoa(*field(s)) },
	}
}

func stringKey(name, typ, doc string, check func(string) (string, error), field func(*Server) *string) serverKey {
	return serverKey{name: name, typ: typ, doc: doc,
		set: func(s *Server, v string) (string, error) {
			v, err := check(v)
			*field(s) = v
			return "", err
		},
		show: func(s *Server) string { return *field(s) },
	}
}

func oneWord(what string) func(string) (string, error) {
	return func(v string) (string, error) {
		if strings.ContainsAny(v, " \t") {
			return "", fmt.Errorf("bad %s %q: want one word", what, v)
		}
		return v, nil
	}
}

var serverKeys = []serverKey{
	{name: "Listen", typ: "address [flags]", repeat: true,
		doc: "Address to listen on: `port`, `addr:port` or `[v6]:port`, then optional flags: `tls` (HTTPS, HTTP/1.1 only), `tls h2` (HTTPS offering HTTP/2 and HTTP/1.1 by ALPN), `h2c` (HTTP/1.1 plus cleartext HTTP/2, by prior knowledge or `Upgrade: h2c`). Repeat the key for more addresses. Port 0 picks a free port.",
		set: func(s *Server, v string) (string, error) {
			l, err := parseListen(v)
			if err != nil {
				return "", err
			}
			for _, o := range s.Listen {
				if o.Addr == l.Addr {
					return fmt.Sprintf("duplicate address %s ignored", l.Addr), nil
				}
			}
			s.Listen = append(s.Listen, l)
			return "", nil
		},
		show: func(s *Server) string {
			var out []string
			for _, l := range s.Listen {
				out = append(out, strings.Join(append([]string{strings.TrimPrefix(l.Addr, ":")}, l.Flags...), " "))
			}
			return strings.Join(out, ", ")
		},
	},
	countKey("Workers", "integer ≥ 0", "Number of workers; 0 means one per CPU.", 0, 1<<16,
		func(s *Server) *int { return &s.Workers }),
	secondsKey("Timeout", "Longest wait for a client to send a request or accept a response.",
		func(s *Server) *time.Duration { return &s.Timeout }),
	boolKey("KeepAlive", "Allow persistent connections.",
		func(s *Server) *bool { return &s.KeepAlive }),
	secondsKey("KeepAliveTimeout", "Longest wait for the next request on a persistent connection.",
		func(s *Server) *time.Duration { return &s.KeepAliveTimeout }),
	countKey("MaxKeepAliveRequest", "integer > 0", "Requests served on one connection before it is closed.", 1, maxInt32,
		func(s *Server) *int { return &s.MaxKeepAliveRequest }),
	{name: "MaxRequestSize", typ: "integer > 0", unit: "KiB",
		doc: "Largest request, head plus body, whatever handles it (Monkey's MaxRequestSize, nginx's `client_max_body_size`): " +
			"a longer `Content-Length` gets 413 before the body is read, a chunked body that outgrows it ends with 413. " +
			"It applies to requests for the cgi, fastcgi and proxy plugins too, so a site that takes uploads or proxies large bodies must raise it " +
			"(for example `MaxRequestSize 2097152` for 2 GiB; the proxy streams them in constant memory). " +
			"The head alone is limited to min(MaxRequestSize, 32 KiB). `Server.MaxRequestSize` holds it in bytes.",
		set: func(s *Server, v string) (string, error) {
			n, err := parseCount(v, 1<<40)
			if err == nil && n == 0 {
				err = fmt.Errorf("must be greater than 0")
			}
			s.MaxRequestSize = n << 10
			return "", err
		},
		show: func(s *Server) string { return strconv.FormatInt(s.MaxRequestSize>>10, 10) },
	},
	{name: "Indexfile", typ: "list of names",
		doc: "File names tried, in order, when a directory is requested (space-separated).",
		set: func(s *Server, v string) (string, error) {
			names := strings.Fields(v)
			for _, n := range names {
				if strings.Contains(n, "/") || n == "." || n == ".." {
					return "", fmt.Errorf("bad index file name %q: want a plain file name", n)
				}
			}
			s.IndexFiles = names
			return "", nil
		},
		show: func(s *Server) string { return strings.Join(s.IndexFiles, " ") },
	},
	boolKey("HideVersion", "Send `Server: gibbon` without the version.",
		func(s *Server) *bool { return &s.HideVersion }),
	boolKey("Resume", "Allow range requests (resuming downloads).",
		func(s *Server) *bool { return &s.Resume }),
	boolKey("SymLink", "Follow symbolic links inside a document root.",
		func(s *Server) *bool { return &s.SymLink }),
	stringKey("DefaultMimeType", "MIME type", "Content type of a file whose extension is not in the MIME table.",
		func(v string) (string, error) { return v, parseMediaType(v) },
		func(s *Server) *string { return &s.DefaultMimeType }),
	stringKey("User", "user name", "User to switch to after the listeners are bound (when started as root); empty: keep the current user.",
		oneWord("user"), func(s *Server) *string { return &s.User }),
	stringKey("PidFile", "path", "File to write the process id to; relative to the config directory; empty: none.",
		oneWord("path"), func(s *Server) *string { return &s.PidFile }),
	stringKey("UserDir", "directory name", "Directory inside a user's home served as `/~user/`; empty: off.",
		func(v string) (string, error) {
			if filepath.IsAbs(v) || hasDotDot(v) || strings.ContainsAny(v, " \t") {
				return "", fmt.Errorf("bad UserDir %q: want a relative directory name such as public_html", v)
			}
			return v, nil
		}, func(s *Server) *string { return &s.UserDir }),
	stringKey("Balancing", "`reuseport` or `fair`", "How connections are spread over workers; empty: the engine's default (reuseport where the kernel has it).",
		func(v string) (string, error) {
			switch lv := strings.ToLower(v); lv {
			case "reuseport", "fair":
				return lv, nil
			}
			return "", fmt.Errorf("bad Balancing %q: want reuseport or fair", v)
		}, func(s *Server) *string { return &s.Balancing }),
	countKey("WorkerCapacity", "integer ≥ 0", "Clients one worker holds before new connections are refused; 0: derived from RLIMIT_NOFILE.", 0, maxInt32,
		func(s *Server) *int { return &s.WorkerCapacity }),
	stringKey("Admin", "`unix:`path or loopback address", "Admin endpoint (JSON API, Prometheus `/metrics`, status page; `gibbon ctl`): "+
		"`unix:/run/gibbon.sock` (a socket created mode 0600, relative to the config directory) or a loopback `host:port` such as `127.0.0.1:2019`; "+
		"any other address is refused, since the API can reload and stop the server and has no authentication. Empty: off.",
		ParseAdmin, func(s *Server) *string { return &s.Admin }),
}

// AdminUnix is the prefix of an Admin value naming a unix socket.
const AdminUnix = "unix:"

// ParseAdmin checks a value of the Admin key and returns it: "unix:"
// followed by a path, or a host:port whose host is "localhost" or a
// loopback IP. Any other address is refused: the admin endpoint has no
// authentication and can reload and stop the server.
func ParseAdmin(v string) (string, error) {
	if path, ok := strings.CutPrefix(v, AdminUnix); ok {
		if path == "" || strings.ContainsAny(path, " \t") {
			return "", fmt.Errorf("bad socket path %q: want unix:/path/to/gibbon.sock", path)
		}
		return v, nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", fmt.Errorf("bad address %q: want unix:/path or a loopback host:port such as 127.0.0.1:2019", v)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("bad port %q", port)
	}
	if ip, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("%q is not a loopback address: the admin API can reload and stop the server and has no authentication; use unix:/path or 127.0.0.1:PORT", v)
	}
	return v, nil
}

// monkeyServerKeys are keys of Monkey's shipped monkey.conf that gibbon
// does not need; they are accepted with a warning.
var monkeyServerKeys = []struct{ name, why string }{
	{"TransportLayer", "transport plugins do not exist in gibbon; use Listen flags such as tls"},
	{"FDT", "gibbon has no file descriptor table"},
	{"OverCapacity", "gibbon refuses connections past WorkerCapacity"},
	{"FDLimit", "gibbon uses the process limit (ulimit -n)"},
}

func lookupServerKey(name string) *serverKey {
	for i := range serverKeys {
		if strings.EqualFold(serverKeys[i].name, name) {
			return &serverKeys[i]
		}
	}
	return nil
}

func monkeyServerKey(name string) (string, bool) {
	for _, k := range monkeyServerKeys {
		if strings.EqualFold(k.name, name) {
			return k.why, true
		}
	}
	return "", false
}

// decodeServer builds a Server from the [SERVER] sections (all of them, in
// order, as if they were one).
func decodeServer(secs []*Section, ws *[]Warning, errs *errorList) Server {
	s := DefaultServer()
	s.Listen = nil
	seen := make(map[string]Entry)
	for _, sec := range secs {
		for _, e := range sec.Entries {
			k := lookupServerKey(e.Key)
			if k == nil {
				if why, ok := monkeyServerKey(e.Key); ok {
					*ws = append(*ws, e.warn("Monkey key ignored: %s", why))
					continue
				}
				errs.addErr(unknownKey(e, "[SERVER]", serverKeyNames()))
				continue
			}
			if prev, ok := seen[k.name]; ok && !k.repeat {
				errs.add(e.File, e.Line, e.Key, "already set at %s:%d", prev.File, prev.Line)
				continue
			}
			seen[k.name] = e
			w, err := k.set(&s, e.Value)
			if err != nil {
				errs.add(e.File, e.Line, e.Key, "%v", err)
			} else if w != "" {
				*ws = append(*ws, e.warn("%s", w))
			}
		}
	}
	if len(s.Listen) == 0 {
		s.Listen = []Listen{{Addr: DefaultListen}}
		if len(secs) > 0 {
			*ws = append(*ws, Warning{File: secs[0].File, Line: secs[0].Line, Key: "Listen",
				Msg: "no Listen entry; listening on " + DefaultListen})
		}
	}
	return s
}

func serverKeyNames() []string {
	names := make([]string, len(serverKeys))
	for i, k := range serverKeys {
		names[i] = k.name
	}
	return names
}

// unknownKey is the error for a key a core section does not have, with a
// suggestion when a known key is close.
func unknownKey(e Entry, section string, known []string) *Error {
	msg := "unknown key in " + section
	if s := closest(e.Key, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	return &Error{File: e.File, Line: e.Line, Key: e.Key, Msg: msg}
}

// closest returns the known name within edit distance 2 of s, ignoring
// case, or "".
func closest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(s), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
