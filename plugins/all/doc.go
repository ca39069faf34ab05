// Package all loads gibbon's standard plugins: importing it registers each
// of them (one blank import per plugin, in sorted order). cmd/gibbon
// imports it; a library user imports only the plugins they want.
//
// It holds no code and enables nothing: a plugin runs only when
// plugins.load names it.
package all
