// Package stage is the plugin-facing API of gibbon: the hook interfaces a
// plugin implements, the typed stages and verdicts, the [Request],
// [ResponseWriter] and [Outcome] a hook sees, the registry plugins join at
// init, and the [Pipeline] that the server drives.
//
// # Lifecycle
//
// A plugin is registered once, at init, with [Register]. [Load] reads
// plugins.load and, for each plugin named there, in that order:
//
//  1. New: the registered factory (no side effects);
//  2. Decode(*PluginConfig): read its own file (plugins/<name>/<name>.conf)
//     and the sections it owns in the site files; reject unknown keys with
//     file:line;
//  3. Provision(*Context): the process context hook (open files, compile
//     patterns, start goroutines);
//  4. Validate();
//
// then builds the per-stage chains once. The server then calls the
// Pipeline at five points (see [Pipeline]); InitWorker once per worker (the
// thread context); and Cleanup at shutdown, which reaches every plugin
// that was created, even after a partial provision. (There is no
// configuration reload yet: the command's SIGHUP reloads only TLS
// certificates.)
//
// # Stages (Monkey's numbers)
//
//	10 StageAccept   Acceptor.OnAccept        connection accepted, nothing read
//	20 StageRequest  RequestFilter.OnRequest  request head received
//	30 StageHandle   Handler.ServeGibbon      content handler ([HANDLERS] Match)
//	40 StageDone     Observer.OnDone          response completed, refused or failed
//	50 StageClose    ConnObserver.OnClose     connection closed, for any reason
//
// Within a stage hooks run in load order. A hook answers with a [Verdict].
//
// # Where hooks run
//
// On the server's epoll driver, hooks of stages 10, 20 (unless the filter
// says [Blocker.Blocks]), 40 and 50 run on the event loop of the worker
// that owns the connection; on its goroutine driver (TLS, h2c, connections
// handed off a loop) on the connection's goroutine, or an HTTP/2
// connection's driver goroutine. Either way they must not block (no disk
// or network I/O, no long computation); a plugin that needs such work
// hands it to its own goroutine, as the logger plugin does.
// A content handler declares with Blocking whether it may block; the server
// moves a connection whose request routes to a blocking handler off the
// loop first. Hooks of one HTTP/1 connection are never called
// concurrently, but hooks of the streams of one HTTP/2 connection and of
// different connections are: a plugin's hook methods must be safe for
// concurrent use.
//
// # What it is not
//
// Package stage knows no concrete plugin, no socket, no engine and no file
// system layout beyond the plugin config files; it never writes a byte to a
// client. The server implements [ResponseWriter] and drives the Pipeline.
// The only global is the registry, written during init and read-only after.
package stage
