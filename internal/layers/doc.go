// Package layers enforces the import layering of gibbon's packages:
// internal/* at the bottom; the protocol cores (http1, http2), config, tlsx
// and the engine above them (the engine reaches protocols only through its
// own Protocol interface), websocket beside them with no gibbon import;
// stage (the plugin API) above config and http1; static and vhost above
// those; then the server wiring and the plugins, which never import the
// server, the engine or one another (code they share lives under
// plugins/internal/); plugins/all and the root package
// gibbon (library mode) above the server; the command, the examples and the
// end-to-end tests at the top. docs/ARCHITECTURE.md has the table.
//
// It holds no code: its test lists every package of the module with `go list`
// and fails when a package imports a gibbon package its layer does not allow
// (the table allowed in layers_test.go).
package layers
