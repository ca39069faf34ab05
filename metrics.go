package gibbon

import (
	"bufio"
	"io"
	"strconv"
	"time"
)

// writeMetrics writes st in the Prometheus text exposition format
// (version 0.0.4): each family once, with its HELP and TYPE lines, the
// samples labelled by driver ("epoll", "goroutine", "h2"), worker (the
// epoll worker's index; absent for the other drivers) and, for
// responses, the status class ("2xx").
func writeMetrics(out io.Writer, st Stats) {
	m := metricWriter{w: bufio.NewWriter(out)}
	defer m.w.Flush()
	rows := allDrivers(st)

	m.family("gibbon_build_info", "gauge", "The running gibbon's version (always 1).")
	m.sample("gibbon_build_info", `version="`+escapeLabel(st.Version)+`"`, 1)
	if !st.Serving.IsZero() {
		m.family("gibbon_start_time_seconds", "gauge", "When the server began serving, in seconds since the Unix epoch.")
		m.sample("gibbon_start_time_seconds", "", float64(st.Serving.UnixMilli())/1e3)
		m.family("gibbon_uptime_seconds", "gauge", "Seconds since the server began serving.")
		m.sample("gibbon_uptime_seconds", "", time.Since(st.Serving).Seconds())
	}
	m.family("gibbon_config_generation", "gauge", "Configurations loaded: 1, plus one per successful reload.")
	m.sample("gibbon_config_generation", "", float64(st.Generation))
	if lr := st.LastReload; !lr.Time.IsZero() {
		ok := 0.0
		if lr.Err == "" {
			ok = 1
		}
		m.family("gibbon_config_last_reload_success", "gauge", "Whether the last reload succeeded (1) or failed (0).")
		m.sample("gibbon_config_last_reload_success", "", ok)
		m.family("gibbon_config_last_reload_timestamp_seconds", "gauge", "When the last reload was tried, in seconds since the Unix epoch.")
		m.sample("gibbon_config_last_reload_timestamp_seconds", "", float64(lr.Time.UnixMilli())/1e3)
	}

	m.family("gibbon_responses_total", "counter", "Responses sent, by driver, worker and status class.")
	for _, r := range rows {
		for i, n := range r.responses.Classes {
			m.sample("gibbon_responses_total", r.labels()+`,class="`+statusClasses[i]+`"`, float64(n))
		}
	}
	m.family("gibbon_response_body_bytes_total", "counter", "Body bytes of the responses sent (heads excluded), by driver and worker.")
	for _, r := range rows {
		m.sample("gibbon_response_body_bytes_total", r.labels(), float64(r.responses.BodyBytes))
	}

	conns := rows[:len(rows)-1] // HTTP/2 connections are the goroutine driver's
	counters := []struct {
		name, help string
		v          func(c *ConnCounts) uint64
		epollOnly  bool
	}{
		{"gibbon_connections_accepted_total", "Connections accepted.", func(c *ConnCounts) uint64 { return c.Accepted }, false},
		{"gibbon_connections_handed_off_total", "Connections an epoll worker gave to a goroutine (epoll), or took from the workers (goroutine).", func(c *ConnCounts) uint64 { return c.HandedOff }, false},
		{"gibbon_connections_rejected_total", "Connections closed at once: past WorkerCapacity, or out of descriptors.", func(c *ConnCounts) uint64 { return c.Rejected }, true},
		{"gibbon_connections_closed_total", "Connections closed.", func(c *ConnCounts) uint64 { return c.Closed }, false},
		{"gibbon_connections_timeouts_total", "Connections closed by a read, idle or write timeout.", func(c *ConnCounts) uint64 { return c.Timeouts }, true},
	}
	for _, c := range counters {
		m.family(c.name, "counter", c.help)
		for _, r := range conns {
			if !c.epollOnly || r.worker != "" {
				m.sample(c.name, r.labels(), float64(c.v(r.conns)))
			}
		}
	}
	m.family("gibbon_connections_open", "gauge", "Connections open, by state: idle (between requests) or active.")
	for _, r := range conns {
		m.sample("gibbon_connections_open", r.labels()+`,state="active"`, float64(r.conns.Open-r.conns.Idle))
		m.sample("gibbon_connections_open", r.labels()+`,state="idle"`, float64(r.conns.Idle))
	}
	m.family("gibbon_tls_handshakes_total", "counter", "TLS handshakes, by result.")
	m.sample("gibbon_tls_handshakes_total", `result="ok"`, float64(st.TLSHandshakes))
	m.sample("gibbon_tls_handshakes_total", `result="error"`, float64(st.TLSHandshakeErrors))
}

// labels are the row's driver and worker labels.
func (r *driverRow) labels() string {
	l := `driver="` + r.driver + `"`
	if r.worker != "" {
		l += `,worker="` + r.worker + `"`
	}
	return l
}

// metricWriter writes the lines of the text format.
type metricWriter struct{ w *bufio.Writer }

func (m *metricWriter) family(name, typ, help string) {
	m.w.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
}

func (m *metricWriter) sample(name, labels string, v float64) {
	m.w.WriteString(name)
	if labels != "" {
		m.w.WriteString("{" + labels + "}")
	}
	m.w.WriteString(" " + strconv.FormatFloat(v, 'g', -1, 64) + "\n")
}

// escapeLabel escapes a label value: backslash, double quote and line
// feed.
func escapeLabel(s string) string {
	b := make([]byte, 0, len(s))
	for i := range len(s) {
		switch c := s[i]; c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}
