package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"gibbon"
	"gibbon/config"
)

// ctlUsage is the text printed by gibbon ctl -h.
const ctlUsage = `Usage: gibbon ctl [-a ADDR | -c DIR [-s FILE]] [-n N] COMMAND

Talks to the admin endpoint of a running gibbon: the address given with -a
(unix:/path/to/gibbon.sock or 127.0.0.1:PORT), else the Admin key of the
configuration directory given with -c, else of ./conf.

Commands:
  status    version, pid, uptime, configuration, listeners and totals
  workers   counters per epoll worker and per driver
  conns     open connections, oldest first (at most -n, default 100)
  vhosts    virtual hosts
  plugins   plugins and their chain per stage (as gibbon -t)
  metrics   the Prometheus metrics, as they are
  reload    reload the configuration (as SIGHUP); its errors are printed
  stop      stop gracefully (as SIGTERM) and wait for the server to exit
`

// ctlStopWait bounds how long ctl stop waits for the server to exit: its
// grace period plus the admin endpoint's.
const ctlStopWait = shutdownGrace + adminGrace + 3*time.Second

// ctl runs gibbon ctl and returns the exit status: 0, 1 when the server
// answered an error or could not be reached, 2 for a usage mistake.
func ctl(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gibbon ctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var addr, dir, serverConf string
	limit := 100
	fs.StringVar(&addr, "a", "", "")
	fs.StringVar(&dir, "c", "", "")
	fs.StringVar(&dir, "configdir", "", "")
	fs.StringVar(&serverConf, "s", "", "")
	fs.IntVar(&limit, "n", limit, "")
	help := fs.Bool("h", false, "")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "gibbon ctl: %v\n%s", err, ctlUsage)
		return 2
	}
	if *help {
		fmt.Fprint(stdout, ctlUsage)
		return 0
	}
	cmd, ok := ctlCommands[fs.Arg(0)]
	if fs.NArg() != 1 || !ok {
		fmt.Fprintf(stderr, "gibbon ctl: want one command\n%s", ctlUsage)
		return 2
	}
	if addr == "" {
		a, err := adminAddr(dir, serverConf)
		if err != nil {
			printError(stderr, err)
			return 1
		}
		addr = a
	}
	c := newCtlClient(addr, limit)
	if err := cmd(c, stdout); err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}

// adminAddr reads the Admin key of the configuration directory dir
// (./conf when "").
func adminAddr(dir, serverConf string) (string, error) {
	if dir == "" {
		dir = "conf"
		if !isDir(dir) {
			return "", errors.New("ctl: no admin address: give one with -a, or a configuration directory with -c")
		}
	}
	cfg, err := config.Load(dir, serverConf)
	if err != nil {
		return "", err
	}
	if cfg.Server.Admin == "" {
		return "", fmt.Errorf("ctl: %s has no Admin key in [SERVER]; give the address with -a", dir)
	}
	return cfg.Server.Admin, nil
}

// ctlClient is an HTTP client of one admin endpoint.
type ctlClient struct {
	hc    *http.Client
	base  string
	limit int
}

func newCtlClient(addr string, limit int) *ctlClient {
	tr := &http.Transport{DisableKeepAlives: true} // one request or three: none waits on a pooled connection
	base := "http://" + addr
	if path, ok := strings.CutPrefix(addr, config.AdminUnix); ok {
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}
		base = "http://gibbon"
	}
	return &ctlClient{hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}, base: base, limit: limit}
}

// call sends a request for path and decodes a JSON answer into v (or
// copies it to v when v is an io.Writer). A status other than 2xx is an
// error carrying the server's message.
func (c *ctlClient) call(method, path string, v any) error {
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("ctl: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e gibbon.AdminError
		if json.NewDecoder(resp.Body).Decode(&e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("ctl: %s %s: %s", method, path, resp.Status)
	}
	if w, ok := v.(io.Writer); ok {
		_, err = io.Copy(w, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// ctlCommands are the commands of gibbon ctl.
var ctlCommands = map[string]func(c *ctlClient, out io.Writer) error{
	"status":  ctlStatus,
	"workers": ctlWorkers,
	"conns":   ctlConns,
	"vhosts":  ctlVHosts,
	"plugins": ctlPlugins,
	"metrics": func(c *ctlClient, out io.Writer) error { return c.call("GET", "/metrics", out) },
	"reload":  ctlReload,
	"stop":    ctlStop,
}

// responseClasses formats the counts of 2xx to 5xx of a Responses map
// (gibbon.AdminWorker.Responses).
func responseClasses(r map[string]uint64) string {
	return fmt.Sprintf("%d\t%d\t%d\t%d", r["2xx"], r["3xx"], r["4xx"], r["5xx"])
}

func ctlStatus(c *ctlClient, out io.Writer) error {
	var st gibbon.AdminStatus
	if err := c.call("GET", "/status", &st); err != nil {
		return err
	}
	dir := st.ConfigDir
	if dir == "" {
		dir = "(built-in default)"
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "version\t%s\n", st.Version)
	fmt.Fprintf(tw, "pid\t%d\n", st.PID)
	fmt.Fprintf(tw, "uptime\t%s\n", (time.Duration(st.UptimeSeconds) * time.Second).Round(time.Second))
	fmt.Fprintf(tw, "config\t%s (generation %d)\n", dir, st.Generation)
	if lr := st.LastReload; lr != nil {
		result := "ok"
		if !lr.OK {
			result = "failed: " + strings.ReplaceAll(lr.Error, "\n", "; ")
		}
		fmt.Fprintf(tw, "last reload\t%s %s\n", lr.Time.Local().Format(time.DateTime), result)
	}
	fmt.Fprintf(tw, "driver\t%s, %d workers\n", st.Driver, st.Workers)
	for _, l := range st.Listeners {
		fmt.Fprintf(tw, "listen\t%s\n", strings.Join(append([]string{l.Addr}, l.Flags...), " ")+" ("+l.Driver+")")
	}
	t := st.Totals
	fmt.Fprintf(tw, "requests\t%d (1xx %d, 2xx %d, 3xx %d, 4xx %d, 5xx %d), %d body bytes\n", t.Requests,
		t.Responses["1xx"], t.Responses["2xx"], t.Responses["3xx"], t.Responses["4xx"], t.Responses["5xx"], t.BodyBytes)
	fmt.Fprintf(tw, "connections\t%d open (%d idle), %d accepted, %d closed, %d rejected\n", t.Open, t.Idle, t.Accepted, t.Closed, t.Rejected)
	fmt.Fprintf(tw, "TLS handshakes\t%d (%d failed)\n", t.TLS, t.TLSErrors)
	return tw.Flush()
}

func ctlWorkers(c *ctlClient, out io.Writer) error {
	var rows []gibbon.AdminWorker
	if err := c.call("GET", "/workers", &rows); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "DRIVER\tWORKER\tOPEN\tIDLE\tACCEPTED\tHANDED-OFF\tCLOSED\tREJECTED\tTIMEOUTS\tREQUESTS\t2XX\t3XX\t4XX\t5XX\tBODY-BYTES\t")
	for _, r := range rows {
		w := r.Worker
		if w == "" {
			w = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t\n", r.Driver, w, r.Open, r.Idle, r.Accepted,
			r.HandedOff, r.Closed, r.Rejected, r.Timeouts, r.Requests, responseClasses(r.Responses), r.BodyBytes)
	}
	return tw.Flush()
}

func ctlConns(c *ctlClient, out io.Writer) error {
	var cs gibbon.AdminConns
	if err := c.call("GET", fmt.Sprintf("/conns?limit=%d", c.limit), &cs); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREMOTE\tDRIVER\tWORKER\tSTATE\tAGE\tREQUESTS")
	for _, k := range cs.Conns {
		w := "-"
		if k.Worker != nil {
			w = fmt.Sprint(*k.Worker)
		}
		age := time.Duration(k.AgeSeconds * float64(time.Second)).Round(100 * time.Millisecond)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\n", k.ID, k.Remote, k.Driver, w, k.State, age, k.Requests)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "%d of %d open connections shown\n", cs.Shown, cs.Total)
	return err
}

func ctlVHosts(c *ctlClient, out io.Writer) error {
	var hosts []gibbon.AdminVHost
	if err := c.call("GET", "/vhosts", &hosts); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tNAMES\tSERVES\tTLS")
	for _, h := range hosts {
		names := strings.Join(h.Names, " ")
		if h.Default {
			names = strings.TrimSpace("(default) " + names)
		}
		serves := h.DocumentRoot
		if h.Redirect != "" {
			serves = "redirect " + h.Redirect
		}
		tls := "-"
		if h.TLS {
			tls = "certificate"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.File, names, serves, tls)
	}
	return tw.Flush()
}

func ctlPlugins(c *ctlClient, out io.Writer) error {
	var p gibbon.AdminPlugins
	if err := c.call("GET", "/plugins", &p); err != nil {
		return err
	}
	_, err := io.WriteString(out, p.Describe)
	return err
}

func ctlReload(c *ctlClient, out io.Writer) error {
	var r gibbon.AdminReloaded
	if err := c.call("POST", "/reload", &r); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "gibbon: configuration reloaded (generation %d)\n", r.Generation)
	return err
}

// ctlStop asks the server to stop, then waits until its endpoint no
// longer answers: the server drained and exited.
func ctlStop(c *ctlClient, out io.Writer) error {
	var status gibbon.AdminStatus
	if err := c.call("GET", "/status", &status); err != nil {
		return err
	}
	if err := c.call("POST", "/stop", &gibbon.AdminStopping{}); err != nil {
		return err
	}
	fmt.Fprintf(out, "gibbon: stopping (pid %d)\n", status.PID)
	for deadline := time.Now().Add(ctlStopWait); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c.call("GET", "/status", &struct{}{}) != nil {
			_, err := fmt.Fprintln(out, "gibbon: stopped")
			return err
		}
	}
	return fmt.Errorf("ctl: pid %d still answers after %s", status.PID, ctlStopWait)
}
