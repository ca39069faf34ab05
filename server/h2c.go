package server

import (
	"bytes"
	"time"

	"gibbon/http1"
	"gibbon/http2"
)

// maxUpgradeBody is the largest request body an "Upgrade: h2c" request
// may carry and still be upgraded: the body must be read whole before the
// switch, so a larger one is answered over HTTP/1.1 instead (the server
// may ignore Upgrade, RFC 9110 §7.8).
const maxUpgradeBody = 64 << 10

// serveH2C runs a connection of an h2c listener: HTTP/2 when it begins
// with the client preface (prior knowledge, RFC 9113 §3.3), else HTTP/1.x,
// where a request with "Upgrade: h2c" switches the connection to HTTP/2
// (see upgradeH2C). The first bytes must arrive within Timeout.
func (c *conn) serveH2C() {
	c.h2c = true
	c.nc.SetReadDeadline(time.Now().Add(c.gen.set.timeout))
	for {
		switch http2.MatchPreface(c.buf[:c.end]) {
		case http2.PrefaceYes:
			defer c.close()
			c.serveH2(c.buf[:c.end], nil)
			return
		case http2.PrefaceNo:
			if !c.firstLineHTTP1() {
				c.close() // neither HTTP/1 nor the HTTP/2 preface (RFC 9113 §3.4)
				return
			}
			c.serve()
			return
		}
		if err := c.fill(); err != nil || !c.setActive() {
			c.close()
			return
		}
	}
}

// firstLineHTTP1 reports whether the input read so far may be an HTTP/1
// request: its first line, once complete, names an HTTP/ version. A
// client that sent neither that nor the HTTP/2 preface gets its connection
// closed without an HTTP/1 answer it could not read.
func (c *conn) firstLineHTTP1() bool {
	line, _, complete := bytes.Cut(c.buf[:c.end], []byte("\n"))
	return !complete || bytes.Contains(line, []byte(" HTTP/"))
}

// upgradeH2C serves the rest of the connection over HTTP/2 when c.req
// (whose head is headLen bytes) asks for "Upgrade: h2c" with a valid
// HTTP2-Settings header and has at most maxUpgradeBody of body, all of it
// already read; the request becomes stream 1. It reports whether it did:
// the connection is then finished. Otherwise the request is served over
// HTTP/1.1 as if Upgrade were absent.
func (c *conn) upgradeH2C(headLen int) bool {
	req := &c.req
	if !bytes.EqualFold(req.Upgrade, []byte("h2c")) || req.Chunked || req.ContentLength > maxUpgradeBody ||
		!c.bodyBuffered(headLen) || req.Method == http1.MethodConnect {
		return false
	}
	hs := req.Header("HTTP2-Settings")
	if hs == nil {
		return false
	}
	settings, err := http2.DecodeHTTP2Settings(nil, hs)
	if err != nil {
		return false
	}
	body := c.buf[c.start+headLen : c.start+headLen+int(max(req.ContentLength, 0))]
	up := &http2.UpgradeRequest{
		Method:    string(req.MethodName),
		Scheme:    "http",
		Authority: string(req.Host),
		Path:      string(req.Path),
		Settings:  settings,
		Body:      bytes.Clone(body),
	}
	if req.Query != nil {
		up.Path += "?" + string(req.Query)
	}
	for _, h := range req.Headers {
		up.Header = append(up.Header, http2.HeaderField{Name: string(h.Name), Value: string(h.Value)})
	}
	c.start += headLen + len(body)
	c.out = append(c.out, http2.UpgradeResponse...)
	if c.flush() != nil {
		return true
	}
	c.serveH2(c.buf[c.start:c.end], up)
	return true
}
