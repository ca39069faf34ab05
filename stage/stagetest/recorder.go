package stagetest

import (
	"bytes"
	"errors"
	"sync"

	"gibbon/stage"
)

// ErrGone is what a [StreamRecorder] returns from Write and Flush once its
// body reached FailAt bytes: a client that went away.
var ErrGone = errors.New("stagetest: client went away")

// StreamRecorder is a streaming stage.ResponseWriter for handler tests: it
// implements stage.Flusher, can call back on each flush, and can fail
// writes to act as a client that went away. While a handler runs, other
// goroutines read it through its methods; the exported fields are for
// after the handler returned.
type StreamRecorder struct {
	Code    int          // the status written, 0 before WriteHeader
	Sent    stage.Header // the header as it was at WriteHeader
	Body    bytes.Buffer // what was written
	Flushes int          // calls to Flush

	OnFlush func(body []byte) // if set, called on each Flush with a copy of the body so far
	FailAt  int               // if > 0, Write and Flush fail with ErrGone once the body reached FailAt bytes

	mu     sync.Mutex
	header stage.Header
	wrote  bool
}

// Header returns the header to be sent at WriteHeader.
func (w *StreamRecorder) Header() *stage.Header { return &w.header }

// WriteHeader records code and freezes the header into Sent; later calls
// do nothing.
func (w *StreamRecorder) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wrote {
		return
	}
	w.Code, w.wrote = code, true
	for _, f := range w.header.Fields() {
		w.Sent.Add(f.Name, f.Value)
	}
}

// Write appends p to Body, writing a 200 header first if none was.
func (w *StreamRecorder) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.FailAt > 0 && w.Body.Len() >= w.FailAt {
		return 0, ErrGone
	}
	return w.Body.Write(p)
}

// Flush counts the flush and calls OnFlush, outside the lock.
func (w *StreamRecorder) Flush() error {
	w.mu.Lock()
	w.Flushes++
	snap := append([]byte(nil), w.Body.Bytes()...)
	fail := w.FailAt > 0 && w.Body.Len() >= w.FailAt
	w.mu.Unlock()
	if w.OnFlush != nil {
		w.OnFlush(snap)
	}
	if fail {
		return ErrGone
	}
	return nil
}

// Respond writes a whole response.
func (w *StreamRecorder) Respond(status int, contentType string, body []byte) error {
	if contentType != "" {
		w.header.Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// Written reports whether the header was written.
func (w *StreamRecorder) Written() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.wrote
}

// String returns the body written so far.
func (w *StreamRecorder) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.Body.String()
}

var (
	_ stage.ResponseWriter = (*StreamRecorder)(nil)
	_ stage.Flusher        = (*StreamRecorder)(nil)
)
