package server

import (
	"errors"

	"gibbon/http1"
)

// bodyAction is what the server does with a request body before answering.
type bodyAction uint8

const (
	// bodyNone: the request has no body.
	bodyNone bodyAction = iota
	// bodyDiscard: read the body and drop it, so that the next request
	// on the connection is found; then answer normally.
	bodyDiscard
	// bodyReject: answer with an error status without reading the body,
	// then close the connection.
	bodyReject
)

var bodyActionNames = [...]string{bodyNone: "none", bodyDiscard: "discard", bodyReject: "reject"}

func (a bodyAction) String() string {
	if int(a) < len(bodyActionNames) {
		return bodyActionNames[a]
	}
	return "bodyAction(?)"
}

// bodyPlan is the decision for one request's body.
type bodyPlan struct {
	action       bodyAction
	status       int   // for bodyReject: 413 or 417
	sendContinue bool  // for bodyDiscard: send "100 Continue" first
	budget       int64 // for bodyDiscard: most body bytes (as sent) accepted; < 0 unlimited
}

// planBody decides what to do with the body of req, whose head was
// headLen bytes. The static handler never uses a body, but it must be
// consumed to keep the connection in step:
//   - an Expect other than 100-continue in an HTTP/1.1 request → 417
//     without reading (HTTP/1.0 expectations are ignored, RFC 9110 §10.1.1);
//   - head + Content-Length over MaxRequestSize → 413 without reading (and
//     without "100 Continue");
//   - otherwise the body is read and discarded, after "100 Continue" when
//     an HTTP/1.1 client asked for it. A chunked body is bounded by the
//     same budget while it is read.
func (s *settings) planBody(req *http1.Request, headLen int) bodyPlan {
	if req.Version == http1.Version11 && !req.Expect100 && len(req.Header("Expect")) > 0 {
		return bodyPlan{action: bodyReject, status: 417}
	}
	if !req.HasBody() {
		return bodyPlan{action: bodyNone}
	}
	budget := int64(-1)
	if s.maxRequestSize > 0 {
		budget = max(s.maxRequestSize-int64(headLen), 0)
		if !req.Chunked && req.ContentLength > budget {
			return bodyPlan{action: bodyReject, status: 413}
		}
	}
	return bodyPlan{
		action:       bodyDiscard,
		sendContinue: req.Expect100 && req.Version == http1.Version11,
		budget:       budget,
	}
}

// errBodyTooLarge is a chunked body that outgrew its budget.
var errBodyTooLarge = &http1.ParseError{Status: 413, Reason: "request body too large"}

// discarder consumes a request body without keeping it, without I/O: the
// driver feeds it the bytes it reads until it reports done. Bytes after
// the body are left for the next request.
type discarder struct {
	remaining int64 // Content-Length bytes still to skip
	chunked   bool
	budget    int64 // wire bytes still allowed for a chunked body; < 0 unlimited
	dec       http1.ChunkedDecoder
	sink      [512]byte // decoded chunk data lands here and is dropped
}

// start prepares d for the body of req under plan p.
func (d *discarder) start(req *http1.Request, p bodyPlan) {
	d.chunked = req.Chunked
	d.remaining = max(req.ContentLength, 0)
	d.budget = p.budget
	d.dec.Reset()
}

// pending reports whether body bytes are still expected.
func (d *discarder) pending() bool {
	if d.chunked {
		return !d.dec.Done()
	}
	return d.remaining > 0
}

// feed consumes body bytes from the start of src and returns how many it
// used. Unless the body ends within src (done) or an error occurs, all of
// src is used. Errors: a malformed chunked body (*http1.ParseError with
// status 400 or 431) and errBodyTooLarge (413).
func (d *discarder) feed(src []byte) (n int, done bool, err error) {
	if !d.chunked {
		n := int(min(int64(len(src)), d.remaining))
		d.remaining -= int64(n)
		return n, d.remaining == 0, nil
	}
	for n < len(src) && !d.dec.Done() {
		in := src[n:]
		if d.budget >= 0 && int64(len(in)) > d.budget {
			in = in[:d.budget+1] // one byte over the budget is enough to tell
		}
		nsrc, _, err := d.dec.Decode(d.sink[:], in)
		n += nsrc
		if err != nil {
			return n, false, err
		}
		if d.budget >= 0 {
			d.budget -= int64(nsrc)
			if d.budget < 0 {
				return n, false, errBodyTooLarge
			}
		}
		if nsrc == 0 {
			break
		}
	}
	return n, d.dec.Done(), nil
}

// bodyStatus maps an error from feed to the status to answer with, or 0
// when the connection should just be closed (an I/O error).
func bodyStatus(err error) int {
	var pe *http1.ParseError
	if errors.As(err, &pe) {
		return pe.Status
	}
	return 0
}
