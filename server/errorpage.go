package server

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gibbon/http1"
	"gibbon/static"
	"gibbon/vhost"
)

// htmlType is the Content-Type of the built-in pages.
const htmlType = "text/html; charset=utf-8"

// errorPage writes an error response with the given status: the vhost's
// [ERROR_PAGES] file for that status when it is a readable regular file,
// else a small built-in HTML page. vh may be nil (no vhost chosen yet);
// allow, when not "", becomes the Allow header; rsp.extra, when set, adds
// a plugin's fields (except Content-Type, which is the page's).
func (rs *responder) errorPage(dst []byte, req *http1.Request, vh *vhost.VHost, status int, allow string, rsp *response) []byte {
	rsp.status = status
	ctype, size := htmlType, int64(0)
	if f, fsize, ok := openErrorPage(vh, status); ok {
		rsp.file, rsp.ownFile = f, true
		rsp.onePart[0] = static.Part{Length: fsize}
		rsp.parts = rsp.onePart[:]
		ctype, size = rs.mimeType(f.Name()), fsize
	} else {
		rs.scratch = appendErrorPage(rs.scratch[:0], status, rs.set.serverName)
		rsp.body = rs.scratch
		size = int64(len(rsp.body))
	}
	mark := len(dst)
	dst = rs.appendStart(dst, status)
	dst = http1.AppendHeaderString(dst, "Content-Type", ctype)
	dst = http1.AppendHeaderInt(dst, "Content-Length", size)
	if allow != "" {
		dst = http1.AppendHeaderString(dst, "Allow", allow)
	}
	dst = appendFields(dst, rsp.extra, "Content-Type")
	v := http1.Version11
	if req != nil {
		v = req.Version
	}
	dst = rs.appendEnd(dst, v, rsp.close)
	rsp.head = dst[mark:]
	if req != nil && req.Method == http1.MethodHead {
		rsp.release()
		rsp.body, rsp.parts = nil, nil
	}
	return dst
}

// closeError writes the minimal answer to a request the server will not
// read further (a parse error, a body too large, an unmet expectation): the
// built-in page for status and "Connection: close".
func (rs *responder) closeError(dst []byte, status int, rsp *response) []byte {
	*rsp = response{close: true}
	return rs.errorPage(dst, nil, nil, status, "", rsp)
}

// openErrorPage opens the error page file vh configures for status.
func openErrorPage(vh *vhost.VHost, status int) (*os.File, int64, bool) {
	if vh == nil || len(vh.ErrorPages) == 0 {
		return nil, 0, false
	}
	name, ok := vh.ErrorPages[status]
	if !ok || name == "" {
		return nil, 0, false
	}
	f, err := os.Open(filepath.Join(vh.DocumentRoot, filepath.FromSlash(name)))
	if err != nil {
		return nil, 0, false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, false
	}
	return f, fi.Size(), true
}

// mimeType returns the Content-Type for a file name by its extension.
func (rs *responder) mimeType(name string) string {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	if t, ok := rs.set.mime[ext]; ok && ext != "" {
		return t
	}
	if rs.set.defaultMime != "" {
		return rs.set.defaultMime
	}
	return static.DefaultMimeType
}

// appendErrorPage appends the built-in HTML page for status.
func appendErrorPage(dst []byte, status int, server []byte) []byte {
	dst = append(dst, "<!DOCTYPE html>\n<html><head><title>"...)
	dst = appendStatus(dst, status)
	dst = append(dst, "</title></head>\n<body><h1>"...)
	dst = appendStatus(dst, status)
	dst = append(dst, "</h1>\n<hr><address>"...)
	dst = append(dst, server...)
	return append(dst, "</address></body></html>\n"...)
}

func appendStatus(dst []byte, status int) []byte {
	dst = strconv.AppendInt(dst, int64(status), 10)
	if text := http1.StatusText(status); text != "" {
		dst = append(dst, ' ')
		dst = append(dst, text...)
	}
	return dst
}

// appendMovedPage appends the body of a 301 to loc.
func appendMovedPage(dst, loc []byte) []byte {
	dst = append(dst, "<!DOCTYPE html>\n<html><head><title>301 Moved Permanently</title></head>\n<body><h1>301 Moved Permanently</h1>\n<p><a href=\""...)
	dst = appendHTMLEscaped(dst, loc)
	return append(dst, "\">moved here</a></p></body></html>\n"...)
}

// appendHTMLEscaped appends s with the characters special in HTML
// attributes and text escaped.
func appendHTMLEscaped(dst, s []byte) []byte {
	for _, c := range s {
		switch c {
		case '&':
			dst = append(dst, "&amp;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '"':
			dst = append(dst, "&#34;"...)
		case '\'':
			dst = append(dst, "&#39;"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
