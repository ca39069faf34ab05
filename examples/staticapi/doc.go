// Command staticapi serves a static site and an API from one server: the
// files of ./public from the event loops (sendfile, the open-file cache),
// /api/ from a native handler and /downloads/ from another directory.
//
// It is an example of the library API, not part of it: nothing imports
// it.
package main
