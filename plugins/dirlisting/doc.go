// Package dirlisting is the dirlisting plugin: an HTML index (or JSON with
// ?format=json) of a directory that has no index file, with Monkey's theme
// files. Without the plugin such a directory answers 403.
//
// It does not serve files, and never lists a directory the static file
// rules would refuse: the path is cleaned with static.CleanPath and the
// SymLink rule is applied to every directory from the document root down.
package dirlisting
