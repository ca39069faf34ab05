package proxy

import (
	"encoding/json"
	"html/template"
	"net/url"
	"strings"
	"time"

	"gibbon/stage"
)

// Stats is the JSON form of the stats page (?format=json).
type Stats struct {
	Upstreams []UpstreamStats `json:"upstreams"`
}

// UpstreamStats describes one [UPSTREAM].
type UpstreamStats struct {
	Name    string        `json:"name"`
	Balance string        `json:"balance"`
	Servers []ServerStats `json:"servers"`
}

// ServerStats describes one server at the time of the request.
type ServerStats struct {
	Name     string `json:"name"`
	Address  string `json:"address"`
	Proto    string `json:"proto"`           // "http" or "h2c"
	State    string `json:"state"`           // "UP", "DOWN", "DOWN (retrying)"
	Backup   bool   `json:"backup"`          // used only when no active server is up
	Weight   int    `json:"weight"`          // configured weight
	Active   int64  `json:"active"`          // requests in progress
	Requests int64  `json:"requests"`        // requests sent (tries included)
	Errors   int64  `json:"errors"`          // connect, transport and timeout errors
	BytesIn  int64  `json:"bytes_in"`        // request body bytes sent to the server
	BytesOut int64  `json:"bytes_out"`       // response body bytes relayed to clients
	Check    *Check `json:"check,omitempty"` // last active check, nil without one
	Checked  bool   `json:"checked"`         // the server has the check flag
	Failures int32  `json:"failures"`        // consecutive passive failures
}

// Check is the last active check of a server.
type Check struct {
	At         time.Time `json:"at"`
	OK         bool      `json:"ok"`
	Status     string    `json:"status"` // L7OK, L7STS, L7TOUT, L7RSP, L4CON, L4TOUT
	Code       int       `json:"code,omitempty"`
	DurationMS float64   `json:"duration_ms"`
	Detail     string    `json:"detail"`
}

// Snapshot returns the current state and counters of every upstream.
func (p *Proxy) Snapshot() Stats {
	now := time.Now()
	st := Stats{Upstreams: make([]UpstreamStats, 0, len(p.pools))}
	for _, pl := range p.pools {
		u := UpstreamStats{Name: pl.name, Balance: pl.balance.String()}
		if pl.balance == URLParam {
			u.Balance += " " + pl.param
		}
		for _, s := range pl.servers {
			ss := ServerStats{
				Name: s.name, Address: s.addr, Proto: "http", State: s.state(now),
				Backup: s.backup, Weight: s.weight, Active: s.active.Load(),
				Requests: s.requests.Load(), Errors: s.errors.Load(),
				BytesIn: s.bytesIn.Load(), BytesOut: s.bytesOut.Load(),
				Checked: s.check, Failures: s.fails.Load(),
			}
			if s.h2c {
				ss.Proto = "h2c"
			}
			if c := s.last.Load(); c != nil {
				ss.Check = &Check{At: c.At, OK: c.OK, Status: c.Status, Code: c.Code,
					DurationMS: float64(c.Duration.Microseconds()) / 1000, Detail: c.Detail}
			}
			u.Servers = append(u.Servers, ss)
		}
		st.Upstreams = append(st.Upstreams, u)
	}
	return st
}

// serveStats answers the stats page: HTML, or JSON with ?format=json.
func (p *Proxy) serveStats(w stage.ResponseWriter, r *stage.Request) {
	w.Header().Set("Cache-Control", "no-store")
	st := p.Snapshot()
	if q, err := url.ParseQuery(r.Query); err == nil && q.Get("format") == "json" {
		b, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			w.Respond(500, "", nil)
			return
		}
		w.Respond(200, "application/json", append(b, '\n'))
		return
	}
	var b strings.Builder
	if err := statsPage.Execute(&b, st); err != nil {
		w.Respond(500, "", nil)
		return
	}
	w.Respond(200, "text/html; charset=utf-8", []byte(b.String()))
}

var statsPage = template.Must(template.New("stats").Funcs(template.FuncMap{
	"class": func(s ServerStats) string {
		switch {
		case !strings.HasPrefix(s.State, "UP"):
			return "down"
		case s.Backup:
			return "backup"
		}
		return "up"
	},
}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>gibbon proxy statistics</title>
<style>
body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;margin-bottom:1.5em}
th,td{border:1px solid #999;padding:.2em .5em;text-align:right}th{background:#ddd}
td.l{text-align:left}tr.up td{background:#cfc}tr.down td{background:#fcc}tr.backup td{background:#ccf}
</style></head><body>
<h1>gibbon proxy statistics</h1>
{{range .Upstreams}}<h2>{{.Name}} <small>({{.Balance}})</small></h2>
<table>
<tr><th>server</th><th>address</th><th>state</th><th>weight</th><th>active</th><th>requests</th><th>errors</th><th>bytes in</th><th>bytes out</th><th>last check</th></tr>
{{range .Servers}}<tr class="{{class .}}"><td class="l">{{.Name}}{{if eq .Proto "h2c"}} (h2c){{end}}</td><td class="l">{{.Address}}</td><td class="l">{{.State}}{{if .Backup}} backup{{end}}</td><td>{{.Weight}}</td><td>{{.Active}}</td><td>{{.Requests}}</td><td>{{.Errors}}</td><td>{{.BytesIn}}</td><td>{{.BytesOut}}</td><td class="l">{{with .Check}}{{.Status}} {{.Detail}} in {{.DurationMS}} ms{{else}}{{if .Checked}}pending{{else}}no check{{end}}{{end}}</td></tr>
{{end}}</table>
{{end}}</body></html>
`))
