package main

import (
	"flag"
	"fmt"
	"io"

	"gibbon"
)

// usage is the text printed by -h and --help.
const usage = `Usage: gibbon [options]
       gibbon passwd [-c] [-D] [-s] FILE USER [PASS]
       gibbon ctl [-a ADDR | -c DIR] status|workers|conns|vhosts|plugins|metrics|reload|stop

Serves the configuration directory given with -c, else ./conf if it exists,
else the built-in default: ./htdocs (or a welcome page) on port 2001.

Options:
  -c, --configdir DIR    load the configuration directory DIR
  -s, --serverconf FILE  server config file inside the config directory
                         (default gibbon.conf, else monkey.conf)
  -p, --port N           override the port of every Listen address
  -w, --workers N        override the number of workers (0 = one per CPU)
  -o, --one-shot DIR     serve DIR with the default configuration, no config directory
      --driver NAME      serve connections with epoll (event loops), goroutine
                         (one per connection) or auto (default: epoll on Linux)
  -B, --balancing-fair   epoll driver: one acceptor gives each connection to the
                         least busy worker (Balancing fair) instead of reuseport
  -I, --pid-file FILE    write the process id to FILE while running
      --https            serve every listener over TLS with HTTP/2 and
                         HTTP/1.1 (as if flagged "tls h2"); without a
                         certificate a self-signed one is generated
      --tls-cert FILE    PEM certificate of the TLS listeners (overrides
                         CertificateFile of plugins/tls/tls.conf)
      --tls-key FILE     PEM private key of --tls-cert (overrides RSAKeyFile)
  -t, --test             check the configuration, print the plugin chain per
                         stage and exit (0 valid, 1 invalid)
  -v, --version          print the version and exit
  -h, --help             print this help and exit

gibbon passwd manages a users file of the auth plugin (bcrypt hashes):
  -c  create FILE (replacing it)    -D  delete USER
  -s  store Monkey's {SHA} format (weak: only for files shared with Monkey)
Without PASS the password is asked for on the terminal (twice, not echoed),
or read as one line from standard input when it is not a terminal.

gibbon ctl talks to the admin endpoint of a running gibbon (the Admin key);
gibbon ctl -h lists its commands.

Signals: SIGTERM and SIGINT stop gracefully; SIGUSR1 reopens the log files;
SIGHUP reloads the configuration.
`

// options holds the parsed command line. port and workers are -1 when not given.
type options struct {
	configDir  string
	serverConf string
	port       int
	workers    int
	oneShot    string
	pidFile    string
	https      bool
	tlsCert    string
	tlsKey     string
	driver     string
	fair       bool
	test       bool
	version    bool
	help       bool
}

// parseFlags parses args (without the program name). Both the short and the
// long name of each flag set the same field.
func parseFlags(args []string) (*options, error) {
	o := &options{port: -1, workers: -1}
	fs := flag.NewFlagSet("gibbon", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	str := func(p *string, short, long string) {
		fs.StringVar(p, short, *p, "")
		fs.StringVar(p, long, *p, "")
	}
	num := func(p *int, short, long string) {
		fs.IntVar(p, short, *p, "")
		fs.IntVar(p, long, *p, "")
	}
	boolean := func(p *bool, short, long string) {
		fs.BoolVar(p, short, *p, "")
		fs.BoolVar(p, long, *p, "")
	}
	str(&o.configDir, "c", "configdir")
	str(&o.serverConf, "s", "serverconf")
	num(&o.port, "p", "port")
	num(&o.workers, "w", "workers")
	str(&o.oneShot, "o", "one-shot")
	str(&o.pidFile, "I", "pid-file")
	fs.BoolVar(&o.https, "https", false, "")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "")
	fs.StringVar(&o.tlsKey, "tls-key", "", "")
	fs.StringVar(&o.driver, "driver", "", "")
	boolean(&o.fair, "B", "balancing-fair")
	boolean(&o.test, "t", "test")
	boolean(&o.version, "v", "version")
	boolean(&o.help, "h", "help")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if o.port != -1 && (o.port < 0 || o.port > 65535) {
		return nil, fmt.Errorf("%w: port %d out of range 0-65535", errUsage, o.port)
	}
	if o.workers < -1 {
		return nil, fmt.Errorf("%w: workers %d is negative", errUsage, o.workers)
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return nil, fmt.Errorf("%w: --tls-cert and --tls-key go together", errUsage)
	}
	if _, err := gibbon.ParseDriver(o.driver); err != nil {
		return nil, fmt.Errorf("%w: --driver %q: want auto, epoll or goroutine", errUsage, o.driver)
	}
	if o.oneShot != "" && (o.configDir != "" || o.serverConf != "") {
		return nil, fmt.Errorf("%w: -o cannot be combined with -c or -s", errUsage)
	}
	return o, nil
}
