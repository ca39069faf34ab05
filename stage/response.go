package stage

import (
	"bytes"
	"strings"
)

// Field is one response header line.
type Field struct{ Name, Value string }

// Header is a small ordered list of response header fields. Names compare
// ASCII case-insensitively. The zero value is an empty list ready to use.
// The server adds Date, Server, Content-Length, Transfer-Encoding and
// Connection itself; fields a plugin sets with those names are ignored,
// except a valid Content-Length set by a blocking handler before its body
// streams out, which the server then uses.
// The server removes CR, LF and NUL from values before writing them.
type Header struct {
	fields []Field
}

// Get returns the value of the first field named name, or "".
func (h *Header) Get(name string) string {
	for _, f := range h.fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Values returns the values of every field named name, in order.
func (h *Header) Values(name string) []string {
	var out []string
	for _, f := range h.fields {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}

// Add appends a field.
func (h *Header) Add(name, value string) {
	h.fields = append(h.fields, Field{name, value})
}

// Set replaces every field named name by one with value.
func (h *Header) Set(name, value string) {
	h.Del(name)
	h.Add(name, value)
}

// Del removes every field named name.
func (h *Header) Del(name string) {
	out := h.fields[:0]
	for _, f := range h.fields {
		if !strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	clear(h.fields[len(out):])
	h.fields = out
}

// Fields returns the fields in order. The slice is a view: it is valid
// until the next change to h.
func (h *Header) Fields() []Field { return h.fields }

// Len returns the number of fields.
func (h *Header) Len() int { return len(h.fields) }

// Reset empties h, keeping its storage.
func (h *Header) Reset() {
	clear(h.fields)
	h.fields = h.fields[:0]
}

// ResponseWriter is how a hook answers a request. The server implements it;
// [ResponseRecorder] is the fake for tests. It must not be used after the
// hook returns, nor from another goroutine than the hook's.
type ResponseWriter interface {
	// Header is the list of header fields to send. Changes after
	// WriteHeader have no effect.
	Header() *Header
	// WriteHeader sets the status (100–599; 1xx is refused). Only the first
	// call counts. Write calls it with 200 when it was not called.
	WriteHeader(status int)
	// Write appends body bytes. The server decides between
	// Content-Length (when the whole body is known before the head goes
	// out) and chunked encoding, and drops the body of a HEAD request.
	Write(p []byte) (int, error)
	// Respond answers in one call: it sets Content-Type (when contentType
	// is not ""), calls WriteHeader(status) and writes body. With an empty
	// contentType and a nil body it asks the server for its standard
	// response for status: the host's error page for 4xx and 5xx (the
	// header fields already set, such as WWW-Authenticate, are kept).
	Respond(status int, contentType string, body []byte) error
	// Written reports whether WriteHeader was called.
	Written() bool
}

// ResponseRecorder is a [ResponseWriter] that records the response, for
// tests (like net/http/httptest.ResponseRecorder). The zero value is ready
// to use.
type ResponseRecorder struct {
	// Code is the status written; 0 until WriteHeader.
	Code int
	// Fields holds the headers, frozen at WriteHeader.
	Fields Header
	// Body is the body written.
	Body bytes.Buffer
	// Standard is set when Respond asked for the server's standard
	// response (empty content type and nil body).
	Standard bool

	wrote bool
}

// NewRecorder returns an empty ResponseRecorder.
func NewRecorder() *ResponseRecorder { return new(ResponseRecorder) }

// Header returns the header list.
func (w *ResponseRecorder) Header() *Header { return &w.Fields }

// WriteHeader records status the first time it is called.
func (w *ResponseRecorder) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.Code, w.wrote = status, true
}

// Write records body bytes.
func (w *ResponseRecorder) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	return w.Body.Write(p)
}

// Respond records a whole response.
func (w *ResponseRecorder) Respond(status int, contentType string, body []byte) error {
	if contentType != "" {
		w.Fields.Set("Content-Type", contentType)
	} else if body == nil {
		w.Standard = true
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// Written reports whether WriteHeader was called.
func (w *ResponseRecorder) Written() bool { return w.wrote }

// Reset empties the recorder for reuse.
func (w *ResponseRecorder) Reset() {
	w.Fields.Reset()
	w.Body.Reset()
	w.Code, w.wrote, w.Standard = 0, false, false
}

var _ ResponseWriter = (*ResponseRecorder)(nil)
