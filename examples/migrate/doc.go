// Command migrate is a net/http application moved to gibbon by changing
// three lines: the server is created with gibbon.New, the mux is mounted
// with HandleHTTP, and Run replaces ListenAndServe. The handlers, the
// ServeMux and the middleware are unchanged.
//
// It is an example of moving to the library API, not part of it: nothing
// imports it.
package main
