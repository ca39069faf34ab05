// Package layers enforces the import layering of gibbon's packages (STYLE.md §3):
// protocol cores and config at the bottom, the engine beside them, static and
// vhost above, the server wiring above those, and the command at the top.
//
// It holds no code: its test lists every package of the module with `go list`
// and fails when a package imports a gibbon package from its own layer or a
// higher one.
package layers
