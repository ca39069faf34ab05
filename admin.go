package gibbon

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"gibbon/config"
)

// DefaultConnsLimit is how many connections the admin endpoint's /conns
// lists when the request gives no limit; MaxConnsLimit bounds the limit a
// request may ask for.
const (
	DefaultConnsLimit = 100
	MaxConnsLimit     = 10000
)

// AdminControl are the actions behind the admin endpoint's POST /reload
// and POST /stop. The zero value serves the read-only endpoints and
// answers both with 501 Not Implemented.
type AdminControl struct {
	// Reload loads the configuration POST /reload swaps in, through
	// Server.ReloadFrom: the gibbon command reads its config directory
	// again, as on SIGHUP. Its error (file, line and key for a config
	// file) is the answer's.
	Reload func() (Config, error)
	// Stop begins a graceful stop, as SIGTERM does; it is called after
	// POST /stop was answered and must not block.
	Stop func()
}

// AdminHandler returns the admin endpoint's handler (Monkey's "cheetah"
// idea, Caddy's admin API): a JSON API, Prometheus metrics and a status
// page. Serve it on a listener only the operator reaches (ListenAdmin),
// or mount it, or one of its paths, on a mux of your own
// (mux.Handle("GET /metrics", srv.AdminHandler(gibbon.AdminControl{}))).
//
//	GET  /          live status page (HTML, refreshes itself)
//	GET  /status    AdminStatus: version, pid, uptime, config, listeners, totals
//	GET  /workers   []AdminWorker: counters per epoll worker and per driver
//	GET  /conns     AdminConns: open connections, oldest first (?limit=N)
//	GET  /vhosts    []AdminVHost: virtual hosts
//	GET  /plugins   AdminPlugins: the plugin chain per stage, as gibbon -t prints it
//	GET  /metrics   Prometheus text exposition format 0.0.4
//	POST /reload    ctl.Reload: AdminReloaded (200), or AdminError (500)
//	POST /stop      ctl.Stop: AdminStopping (202)
//
// The JSON bodies are indented [AdminStatus], [AdminWorker],
// [AdminConns], [AdminVHost], [AdminPlugins], [AdminReloaded] and
// [AdminStopping] values, which a client such as gibbon ctl decodes into;
// an error (4xx, 5xx) is an [AdminError], {"error": "..."}. The handler
// has no authentication: never expose it beyond the operator. It is safe
// for concurrent use.
func (s *Server) AdminHandler(ctl AdminControl) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(statusPage)
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.status())
	})
	mux.HandleFunc("GET /workers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, workerRows(s.Stats()))
	})
	mux.HandleFunc("GET /conns", func(w http.ResponseWriter, r *http.Request) {
		limit := DefaultConnsLimit
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > MaxConnsLimit {
				writeError(w, http.StatusBadRequest, fmt.Errorf("limit %q: want 0 to %d", v, MaxConnsLimit))
				return
			}
			limit = n
		}
		writeJSON(w, http.StatusOK, s.conns(limit))
	})
	mux.HandleFunc("GET /vhosts", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.vhosts())
	})
	mux.HandleFunc("GET /plugins", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, AdminPlugins{Describe: s.Describe()})
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		writeMetrics(w, s.Stats())
	})
	mux.HandleFunc("POST /reload", func(w http.ResponseWriter, r *http.Request) {
		if ctl.Reload == nil {
			writeError(w, http.StatusNotImplemented, errors.New("reload is not available"))
			return
		}
		if err := s.ReloadFrom(ctl.Reload); err != nil {
			s.opts.Logger.Error("admin: the configuration did not load; keeping the running one", "err", err)
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		s.opts.Logger.Info("admin: configuration reloaded")
		gen, _ := s.reloads.get()
		writeJSON(w, http.StatusOK, AdminReloaded{Generation: gen, Reloaded: true})
	})
	mux.HandleFunc("POST /stop", func(w http.ResponseWriter, r *http.Request) {
		if ctl.Stop == nil {
			writeError(w, http.StatusNotImplemented, errors.New("stop is not available"))
			return
		}
		writeJSON(w, http.StatusAccepted, AdminStopping{Stopping: true})
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		ctl.Stop()
	})
	return mux
}

// writeJSON answers v as indented JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// writeError answers AdminError{err} with status.
func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, AdminError{Error: strings.TrimPrefix(err.Error(), "server: ")})
}

// The types below are the JSON answers of the admin endpoint
// (AdminHandler), as gibbon ctl decodes them. They are plain values: the
// handler builds a new one for each request, and the caller owns what it
// decodes. Their JSON field names are the endpoint's wire format.

// AdminError is the answer of the admin endpoint to a request that failed
// (status 4xx or 5xx).
type AdminError struct {
	Error string `json:"error"`
}

// AdminStatus is the answer of GET /status.
type AdminStatus struct {
	Version       string           `json:"version"`
	PID           int              `json:"pid"`
	Serving       *time.Time       `json:"serving_since,omitempty"` // when Serve began; nil before
	UptimeSeconds float64          `json:"uptime_seconds"`
	ConfigDir     string           `json:"config_dir"` // "" for the built-in default
	Generation    uint64           `json:"config_generation"`
	LastReload    *AdminLastReload `json:"last_reload,omitempty"` // nil before the first reload
	Driver        string           `json:"driver"`
	Workers       int              `json:"workers"`
	Listeners     []AdminListener  `json:"listeners"`
	Totals        AdminTotals      `json:"totals"`
}

// AdminLastReload is the outcome of the last reload in GET /status
// (AdminStatus.LastReload).
type AdminLastReload struct {
	Time  time.Time `json:"time"`
	OK    bool      `json:"ok"`
	Error string    `json:"error,omitempty"` // the reload's error when !OK
}

// AdminListener is one Listen address in GET /status
// (AdminStatus.Listeners): bound ones with their port, their flags, and
// the driver serving them.
type AdminListener struct {
	Addr   string   `json:"addr"`
	Flags  []string `json:"flags,omitempty"`
	Driver string   `json:"driver"`
}

// AdminTotals are the counters of GET /status (AdminStatus.Totals), added
// over every worker and driver. Responses counts the responses by status
// class, keyed "1xx" to "5xx".
type AdminTotals struct {
	Requests  uint64            `json:"requests"`
	Responses map[string]uint64 `json:"responses"`
	BodyBytes uint64            `json:"body_bytes"`
	Accepted  uint64            `json:"connections_accepted"`
	Open      int64             `json:"connections_open"`
	Idle      int64             `json:"connections_idle"`
	Closed    uint64            `json:"connections_closed"`
	Rejected  uint64            `json:"connections_rejected"`
	TLS       uint64            `json:"tls_handshakes"`
	TLSErrors uint64            `json:"tls_handshake_errors"`
}

func (s *Server) status() AdminStatus {
	st := s.Stats()
	out := AdminStatus{
		Version: st.Version, PID: os.Getpid(), ConfigDir: st.ConfigDir,
		Generation: st.Generation, Driver: st.Driver.String(), Workers: max(len(st.Workers), 1),
		Listeners: s.listeners(st.Driver),
	}
	if !st.Serving.IsZero() {
		out.Serving = &st.Serving
		out.UptimeSeconds = time.Since(st.Serving).Seconds()
	}
	if lr := st.LastReload; !lr.Time.IsZero() {
		out.LastReload = &AdminLastReload{Time: lr.Time, OK: lr.Err == "", Error: lr.Err}
	}
	t := &out.Totals
	var rs Responses
	var cc ConnCounts
	for _, r := range allDrivers(st) {
		addResponses(&rs, r.responses)
		cc.Accepted += r.conns.Accepted
		cc.Open += r.conns.Open
		cc.Idle += r.conns.Idle
		cc.Closed += r.conns.Closed
		cc.Rejected += r.conns.Rejected
	}
	t.Requests, t.Responses, t.BodyBytes = rs.Total(), classMap(rs), rs.BodyBytes
	t.Accepted, t.Open, t.Idle, t.Closed, t.Rejected = cc.Accepted, cc.Open, cc.Idle, cc.Closed, cc.Rejected
	t.TLS, t.TLSErrors = st.TLSHandshakes, st.TLSHandshakeErrors
	return out
}

// listeners describes the Listen addresses, bound ones with their port.
func (s *Server) listeners(d Driver) []AdminListener {
	s.mu.Lock()
	ls := s.model.Server.Listen
	s.mu.Unlock()
	bound := s.Addrs()
	out := make([]AdminListener, len(ls))
	for i, l := range ls {
		out[i] = AdminListener{Addr: l.Addr, Flags: l.Flags, Driver: DriverGoroutine.String()}
		if i < len(bound) {
			out[i].Addr = bound[i].String()
		}
		if d == DriverEpoll && len(l.Flags) == 0 {
			out[i].Driver = DriverEpoll.String()
		}
	}
	return out
}

// driverRow is one epoll worker, or one driver, in /workers and /metrics.
type driverRow struct {
	worker    string // "0", "1" … for epoll workers, "" for the others
	driver    string // "epoll", "goroutine", "h2"
	conns     *ConnCounts
	responses Responses
}

// allDrivers lists the workers, then the goroutine driver's connections
// and HTTP/1.x responses, then HTTP/2's responses (its connections are
// the goroutine driver's).
func allDrivers(st Stats) []driverRow {
	var rows []driverRow
	for i := range st.Workers {
		w := &st.Workers[i]
		rows = append(rows, driverRow{strconv.Itoa(w.Worker), DriverEpoll.String(), &w.ConnCounts, w.Responses})
	}
	rows = append(rows, driverRow{"", DriverGoroutine.String(), &st.Goroutine, st.GoroutineResponses})
	return append(rows, driverRow{"", "h2", &ConnCounts{}, st.HTTP2Responses})
}

func addResponses(dst *Responses, r Responses) {
	for i := range r.Classes {
		dst.Classes[i] += r.Classes[i]
	}
	dst.BodyBytes += r.BodyBytes
}

// statusClasses names Responses.Classes.
var statusClasses = [5]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func classMap(r Responses) map[string]uint64 {
	m := make(map[string]uint64, len(r.Classes))
	for i, n := range r.Classes {
		m[statusClasses[i]] = n
	}
	return m
}

// AdminWorker is one row of GET /workers: an epoll worker (Worker "0",
// "1" …), then the goroutine driver and HTTP/2 (Worker ""). Responses
// counts the responses by status class, keyed "1xx" to "5xx".
type AdminWorker struct {
	Worker    string            `json:"worker,omitempty"`
	Driver    string            `json:"driver"`
	Accepted  uint64            `json:"accepted"`
	HandedOff uint64            `json:"handed_off"`
	Rejected  uint64            `json:"rejected"`
	Closed    uint64            `json:"closed"`
	Timeouts  uint64            `json:"timeouts"`
	Open      int64             `json:"open"`
	Idle      int64             `json:"idle"`
	Requests  uint64            `json:"requests"`
	Responses map[string]uint64 `json:"responses"`
	BodyBytes uint64            `json:"body_bytes"`
}

func workerRows(st Stats) []AdminWorker {
	var out []AdminWorker
	for _, r := range allDrivers(st) {
		c := r.conns
		out = append(out, AdminWorker{
			Worker: r.worker, Driver: r.driver,
			Accepted: c.Accepted, HandedOff: c.HandedOff, Rejected: c.Rejected, Closed: c.Closed,
			Timeouts: c.Timeouts, Open: c.Open, Idle: c.Idle,
			Requests: r.responses.Total(), Responses: classMap(r.responses), BodyBytes: r.responses.BodyBytes,
		})
	}
	return out
}

// AdminConns is the answer of GET /conns: Shown of the Total open
// connections, oldest first.
type AdminConns struct {
	Total int         `json:"total"`
	Shown int         `json:"shown"`
	Conns []AdminConn `json:"conns"`
}

// AdminConn is one open connection in GET /conns (AdminConns.Conns).
type AdminConn struct {
	ID         uint64  `json:"id"`
	Remote     string  `json:"remote"`
	Worker     *int    `json:"worker,omitempty"` // nil off the epoll workers
	Driver     string  `json:"driver"`
	State      string  `json:"state"`
	AgeSeconds float64 `json:"age_seconds"`
	Requests   int     `json:"requests"`
}

func (s *Server) conns(limit int) AdminConns {
	list, total := s.Conns(limit)
	out := AdminConns{Total: total, Shown: len(list), Conns: make([]AdminConn, len(list))}
	now := time.Now()
	for i, c := range list {
		ac := AdminConn{ID: c.ID, Remote: c.Remote.String(), Driver: c.Driver, State: c.State,
			AgeSeconds: now.Sub(c.Opened).Round(time.Millisecond).Seconds(), Requests: c.Requests}
		if c.Worker >= 0 {
			ac.Worker = &list[i].Worker
		}
		out.Conns[i] = ac
	}
	return out
}

// AdminVHost is one row of GET /vhosts, in the order of the
// configuration; the first is the default.
type AdminVHost struct {
	File         string   `json:"file,omitempty"`
	Names        []string `json:"names"`
	Default      bool     `json:"default,omitempty"`
	DocumentRoot string   `json:"document_root,omitempty"`
	Redirect     string   `json:"redirect,omitempty"`
	TLS          bool     `json:"tls_certificate,omitempty"`
}

// AdminPlugins is the answer of GET /plugins: the plugin chain per stage,
// as Server.Describe and gibbon -t print it.
type AdminPlugins struct {
	Describe string `json:"describe"`
}

// AdminReloaded is the answer of a successful POST /reload: the
// generation of the configuration now serving.
type AdminReloaded struct {
	Generation uint64 `json:"generation"`
	Reloaded   bool   `json:"reloaded"` // always true
}

// AdminStopping is the answer of POST /stop, sent before the stop begins.
type AdminStopping struct {
	Stopping bool `json:"stopping"` // always true
}

func (s *Server) vhosts() []AdminVHost {
	s.mu.Lock()
	hosts := s.model.Hosts
	s.mu.Unlock()
	out := make([]AdminVHost, len(hosts))
	for i, h := range hosts {
		out[i] = AdminVHost{File: h.File, Names: h.ServerNames, Default: i == 0, DocumentRoot: h.DocumentRoot,
			Redirect: h.Redirect, TLS: h.CertificateFile != ""}
		if out[i].Names == nil {
			out[i].Names = []string{}
		}
	}
	return out
}

// ListenAdmin opens the admin endpoint's listener for addr, the value of
// the [SERVER] Admin key (config.Server.Admin): "unix:PATH" creates a
// unix socket of mode 0600 (a stale socket left by a process that did not
// remove it is replaced; a file that is not a socket, or a socket a
// server answers on, is an error) that the listener removes when closed;
// a TCP address must be on loopback (config.ParseAdmin's rule: the
// endpoint has no authentication). The caller serves AdminHandler on it,
// with net/http.
func ListenAdmin(addr string) (net.Listener, error) {
	if _, err := config.ParseAdmin(addr); err != nil {
		return nil, fmt.Errorf("gibbon: Admin: %w", err)
	}
	path, ok := strings.CutPrefix(addr, config.AdminUnix)
	if !ok {
		return net.Listen("tcp", addr)
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// removeStaleSocket removes the unix socket at path when no server
// answers on it.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode().Type() != os.ModeSocket:
		return fmt.Errorf("gibbon: Admin: %s exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("gibbon: Admin: %s: a server is answering on it", path)
	}
	return os.Remove(path)
}

//go:embed admin.html
var statusPage []byte
