package server

import (
	"gibbon/http2"
	"gibbon/stage"
)

// The plugins' stages per HTTP/2 stream, on the connection's driver
// goroutine. Each stream has its own exchange (h2stream.x), built by
// newStream from the stream's request in HTTP/1 form with Proto
// HTTP/2.0, so that streams answered later (a body still arriving, a
// response waiting for the flow-control window, a blocking handler) keep
// their stage.Request until stage 40. The verdicts map to HTTP/2 as
// follows:
//
//   - stage 20 Handled: the filter's answer, as HEADERS and DATA;
//   - stage 20 Close: RST_STREAM(CANCEL) for that stream only. A filter
//     refuses one request; the connection carries the client's other
//     streams, which did nothing wrong. CANCEL rather than
//     REFUSED_STREAM, which would tell the client it may retry the
//     request unprocessed (RFC 9113 §8.7);
//   - stage 30: an inline handler writes into the stream's memWriter; a
//     blocking one runs on its own goroutine (h2handler.go);
//   - stage 40: once the stream is closed (OnClose) and its handler has
//     returned, with the status sent, the body bytes the flow-control
//     windows took and, for a stream reset before its end, an
//     *http2.StreamError when the handler returned none.

// h2next is what answers a stream whose request has ended.
type h2next uint8

const (
	nextCore    h2next = iota // the core (static files), a Lister for a directory
	nextWritten               // what a filter or an inline handler wrote, or the page for herr
)

// runStages runs stages 20 and 30 for stream s. It reports whether the
// stream is to be answered (st.next) once its request has ended: false
// when a filter closed it or a blocking handler took it.
func (h *h2conn) runStages(s *http2.Stream, st *h2stream) bool {
	x := st.x
	st.next = nextCore
	if !x.staged() {
		return true
	}
	switch st.gen.pp.p.Request(&x.w, &x.r) {
	case stage.Close:
		st.dropped = true
		h.sc.Reset(s.ID, http2.Cancel)
		return false
	case stage.Handled:
		st.next = nextWritten
		return true
	}
	return h.route(st, s.RequestEnded())
}

// route runs stage 30 for st: a blocking handler is started (false);
// otherwise st.next says what answers. ended says whether the request
// body has ended.
func (h *h2conn) route(st *h2stream, ended bool) bool {
	rule, core, err := st.x.route(&st.gen.pp, &st.req)
	switch {
	case rule != nil:
		h.startHandler(st, rule, ended)
		return false
	case !core:
		st.next, st.herr = nextWritten, err
	}
	return true
}

// answer sends the answer st.next names: what a plugin wrote (or the
// page for its error), or the core's, with a Lister's listing for a
// directory without an index file.
func (h *h2conn) answer(st *h2stream) {
	req, x := &st.req, st.x
	h.use(st)
	if st.next == nextWritten {
		h.rs.begin(req, &st.rsp)
		h.head = h.rs.handlerAnswer(h.head[:0], req, x, st.herr, &st.rsp)
		h.send(st)
		return
	}
	if x != nil {
		x.applyRewrite(req)
	}
	h.head = h.rs.respond(h.head[:0], req, &st.rsp)
	if st.rsp.listDir {
		h.head, st.herr = h.rs.listing(h.head, req, x, &st.gen.pp, &st.rsp)
	}
	h.send(st)
}
