package stage

// Plugin is what a registered factory returns. Decode is the only required
// method; a plugin implements the optional lifecycle interfaces
// ([Provisioner], [Validator], [Cleaner]) and hook interfaces ([Acceptor],
// [RequestFilter], [Handler], [Observer], [ConnObserver], [WorkerInit],
// [Lister]) it needs. The Pipeline finds them once, at load time.
type Plugin interface {
	// Decode reads the plugin's configuration. It must reject unknown keys
	// and bad values with a *config.Error (Entry.Errorf gives file:line).
	// It must not open files or start goroutines: that is Provision's job.
	Decode(c *PluginConfig) error
}

// Provisioner is the process context hook: it runs once, after Decode and
// before any worker starts. It opens files, compiles patterns, starts the
// plugin's goroutines. Resources it takes are released by Cleanup.
type Provisioner interface {
	Provision(ctx *Context) error
}

// Validator checks the provisioned plugin as a whole.
type Validator interface {
	Validate() error
}

// Cleaner releases what Provision took: flush and close files, stop
// goroutines. It is called once, at shutdown, after the last hook (there
// is no configuration reload), and also when provisioning failed part way,
// so it must cope with a plugin that was only partly provisioned (or only
// decoded).
type Cleaner interface {
	Cleanup() error
}

// WorkerInit is the thread context hook: InitWorker runs once per worker,
// before the workers serve a connection (the server calls it for every
// worker in turn, from the goroutine that starts them). id is the
// worker index (0 ≤ id < Context.Workers); [ConnInfo.Worker] carries it,
// so a plugin may keep per-worker state in a slice indexed by it.
type WorkerInit interface {
	InitWorker(id int) error
}

// Acceptor is a stage-10 hook, run when a connection is accepted, before
// any byte is read. Any verdict but Continue closes the connection. It runs
// on the event loop and must not block.
type Acceptor interface {
	OnAccept(c ConnInfo) Verdict
}

// RequestFilter is a stage-20 hook, run for each request head before the
// content handler is chosen. It may change r.Path and r.Query (through
// [Request.Rewrite]), set r.User, add response headers, answer the request
// (write through w and return Handled) or close the connection (Close).
// w and r must not be kept after OnRequest returns.
type RequestFilter interface {
	OnRequest(w ResponseWriter, r *Request) Verdict
}

// Blocker is implemented by a RequestFilter that may block for some
// requests (a bcrypt password check takes tens of milliseconds). The event
// loop asks Blocks first; when it reports true, the server moves the
// connection off the loop and runs the stage-20 chain there. Blocks itself
// must be cheap and must not block.
type Blocker interface {
	Blocks(r *Request) bool
}

// Handler is a stage-30 content handler, chosen per virtual host by the
// [HANDLERS] rules ("Match <regex> <plugin> [params…]"). ServeGibbon writes
// the response through w; it returns an error to make the server answer
// instead: a [*HandlerError] carries the status, any other error means 500.
// An error after w.Written is only logged (the connection is closed).
//
// Blocking reports whether ServeGibbon may block (disk or network I/O that
// can wait, user code); a blocking handler runs off the event loop, on its
// own goroutine, and may read r.Body. It must return the same value every
// time.
type Handler interface {
	ServeGibbon(w ResponseWriter, r *Request) error
	Blocking() bool
}

// HandlerMaker is implemented by a handler plugin whose [HANDLERS] rules
// take parameters ("Match ^/cgi-bin/ cgi /usr/bin/php"). MakeHandler is
// called once per rule at load time; a plugin that is a Handler and not a
// HandlerMaker refuses parameters.
type HandlerMaker interface {
	MakeHandler(params []string) (Handler, error)
}

// Lister is a stage-30 handler for directories: the server calls
// ServeDirectory for a request naming a directory (a path ending in "/")
// that has no index file, instead of answering 403. r.File is the
// directory's file system path when the server resolved it. The first
// loaded Lister is used. It runs on the event loop and must not block for
// long (reading one directory is allowed).
type Lister interface {
	ServeDirectory(w ResponseWriter, r *Request) error
}

// Observer is a stage-40 hook, run once per request after its response was
// written (or the request was refused, failed, or closed at stage 10 or
// 20). It must not keep r or its views after returning (copy or
// [Request.Clone]), must not block, and cannot change the response.
type Observer interface {
	OnDone(r *Request, o Outcome)
}

// ConnObserver is a stage-50 hook, run once for every connection the server
// accepted when it closes, whatever the reason: client close, timeout,
// error, refusal at stage 10, shutdown. err is nil for an orderly close.
type ConnObserver interface {
	OnClose(c ConnInfo, err error)
}
