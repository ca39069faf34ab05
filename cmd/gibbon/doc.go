// Command gibbon runs the gibbon web server.
//
// It is a thin user of the library API (package gibbon): it parses the
// command line, finds the configuration (a config directory given with -c,
// ./conf, or the embedded default that serves ./htdocs or a built-in welcome
// page on port 2001), builds the server with gibbon.New, binds every
// listener with Listen, drops root privileges to the configured User,
// writes the pid file and serves until SIGTERM or SIGINT, which start a
// graceful shutdown. It imports plugins/all, so every standard plugin is
// registered; a plugin runs only when plugins.load names it.
//
// It is not the server: it holds no request handling, no config parsing and no
// listener logic. Everything it does is wiring and process management. It
// imports gibbon, gibbon/config (to load the model and print its
// warnings), gibbon/plugins/all and gibbon/plugins/auth (passwd), never
// gibbon/server.
//
// Flags (a single dash or two work for either form):
//
//	-c, --configdir DIR    load the configuration directory DIR
//	-s, --serverconf FILE  server config file name inside DIR (default gibbon.conf, else monkey.conf)
//	-p, --port N           override the port of every Listen address
//	-w, --workers N        override the number of workers
//	-o, --one-shot DIR     serve DIR with the default configuration, no config directory
//	    --driver NAME      epoll (event loops), goroutine (one per connection) or auto
//	-B, --balancing-fair   epoll driver: Balancing fair instead of the config's
//	-I, --pid-file FILE    write the process id to FILE while running
//	    --https            serve every listener over TLS with HTTP/2 and HTTP/1.1 ("tls h2")
//	    --tls-cert FILE    PEM certificate of the TLS listeners (with --tls-key)
//	    --tls-key FILE     PEM private key of --tls-cert
//	-t, --test             check the configuration, print the plugin chain per stage, exit
//	-v, --version          print the version and exit
//	-h, --help             print this help and exit
//
// SIGUSR1 makes the logger plugin reopen its files (log rotation,
// Server.ReopenLogs); SIGHUP reloads the whole configuration, TLS
// certificates included (Server.Reload: a configuration that fails is
// logged and the running one stays); -t loads the plugins without binding (Server.Check) and
// prints Server.Describe; at shutdown the plugins' Cleanup runs after the
// last request, so the logger writes every line it holds.
//
// `gibbon passwd [-c] [-D] [-s] FILE USER [PASS]` manages an auth users
// file (auth.Passwd): -c creates it, -D deletes USER, -s stores Monkey's
// {SHA} form instead of bcrypt. Without PASS the password is asked twice
// on the terminal without echo, or read as one line from standard input
// when it is not a terminal.
//
// Errors that stop the server (a busy port, an unreadable document root, a bad
// config) are printed as lines starting with "gibbon: " on stderr and the exit
// status is 1. A usage error exits with status 2.
package main
