// Package static decides how to answer a request for a file: it maps the
// request path to a file under a document root safely, opens it, and
// chooses the status, the headers and the body as byte ranges of the open
// file.
//
// Package static does no socket I/O and writes no HTTP. [Serve] returns a
// [Result]; the server writes the status line and headers from it, then the
// body described by Result.Parts, which an event-loop engine can send with
// sendfile(2) without copying the file through user space. The caller
// releases the file with Result.Close.
//
// # What Serve decides
//
//   - Path safety ([CleanPath]): one percent-decoding; NUL, backslash and
//     encoded slash refused (400); dot segments removed, and a path climbing
//     above the root refused (400). The file system path is always the
//     document root followed by the clean path.
//   - Symbolic links: with Options.SymLink false, any link between the root
//     and the file answers 403 (the root itself may be a link); with it
//     true, links are followed even out of the root.
//   - "/~user/..." maps to the user's home directory joined with
//     Options.UserDir, when that is set (unknown user: 404).
//   - A directory named without a trailing slash answers 301 to the same
//     path with "/"; with the slash, the first of Options.IndexFiles that
//     exists is served, else 403 (directory listings belong to a plugin).
//   - Methods: GET and HEAD serve the file, OPTIONS answers 200 with Allow,
//     any other method on an existing file answers 405 (on a missing one,
//     404).
//   - Validators and conditional requests (RFC 9110 §13): a strong ETag
//     from the size and modification time, Last-Modified, If-Match,
//     If-Unmodified-Since (412), If-None-Match, If-Modified-Since (304).
//   - Ranges (RFC 9110 §14) when Options.Resume is set: one range (206 with
//     Content-Range), several (206 multipart/byteranges, overlapping and
//     adjacent ranges coalesced), none satisfiable (416), If-Range. More
//     than [MaxRanges] ranges, or ranges adding up to more than the file,
//     get the whole file.
//   - Content-Type from the extension via Options.Mime.
//
// # What it is not
//
// It is not a handler and knows nothing of connections, keep-alive, error
// pages, virtual hosts or compression. It does not list directories.
//
// # Serve and Cache
//
// [Serve] keeps nothing between calls: every call opens the file (with
// O_NOATIME when the kernel allows it) and fstats it, and allocates a few
// small values; it is safe for concurrent use. A [Cache] gives the same
// answers from open files, the content of small files ([Result.Body],
// within a memory budget) and precomputed headers kept between requests,
// and checks each entry against the file system again once its validity
// (a second by default) has passed: a hit costs no system call and no
// allocation. A Cache belongs to one goroutine, an event-loop worker; a
// [SharedCache] is the same, sharded behind mutexes, for the goroutines
// of a server's other connections. A Result from a cache shares its file
// with the cache, counted by reference, or its Body, read-only: see
// [Cache] for the lifetimes.
package static
