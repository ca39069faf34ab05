// Package config reads gibbon's configuration: Monkey's indented text
// format, a directory holding the server file (gibbon.conf or monkey.conf),
// one file per virtual host under sites/, a MIME table (gibbon.mime or
// monkey.mime) and plugins.load.
//
// The package has two layers:
//
//   - The low-level parser ([Parse], [ParseFile]) turns text into generic
//     [Section] values ([NAME] headers with indented "Key value" entries),
//     following @INCLUDE directives. Plugins use it for their own files and
//     read their own sections from [Host.Sections] and [Config.Sections].
//   - The loader ([Load], [Default]) builds the typed [Config] model from a
//     directory: [Server] from [SERVER], one [Host] per site file, the MIME
//     table and the [PLUGINS] section.
//
// Every problem is reported as an [*Error] that names the file, the line and
// the key; [Load] joins several of them with [errors.Join] (use [Errors] to
// list them). Things that are accepted but ignored (Monkey keys gibbon does
// not need, sections the core does not know) become a [Warning].
//
// The package is NOT the server: it never opens a socket, checks that a
// DocumentRoot exists, changes user or writes a pid file. It does not know
// which plugins exist either; it keeps their sections for them.
//
// All values returned by this package are plain data owned by the caller;
// none of them is shared, so they may be modified freely. Functions are safe
// for concurrent use. docs/CONFIG.md is the reference of the format.
package config
