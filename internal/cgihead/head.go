package cgihead

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
)

// DefaultMaxHead is the largest response head [Read] accepts when given a
// limit of 0: 64 KiB, fields and line ends included.
const DefaultMaxHead = 64 << 10

// ErrMalformed is wrapped by the errors Read returns for a head that is not
// CGI/1.1: a line without a colon, a bad field name, a bad Status, a head
// with no field at all, or the stream ending before the blank line.
var ErrMalformed = errors.New("cgihead: malformed response head")

// LimitError reports a head larger than Limit bytes.
type LimitError struct{ Limit int }

func (e *LimitError) Error() string {
	return "cgihead: response head over " + strconv.Itoa(e.Limit) + " bytes"
}

// Field is one response header field of a script.
type Field struct{ Name, Value string }

// Kind is the kind of a CGI response (RFC 3875 §6.2).
type Kind uint8

// The response kinds. A head is a LocalRedirect when it has a Location
// beginning with "/" and no Status; a ClientRedirect when it has any other
// Location; a Document otherwise.
const (
	Document Kind = iota
	LocalRedirect
	ClientRedirect
)

// String returns the name of k.
func (k Kind) String() string {
	switch k {
	case Document:
		return "document"
	case LocalRedirect:
		return "local-redirect"
	case ClientRedirect:
		return "client-redirect"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Head is a parsed response head. The zero value is an empty head.
type Head struct {
	// Status is the code of the Status field, 0 when there was none.
	Status int
	// Location and ContentType are the values of those fields, "" when
	// absent. Both are in Fields too.
	Location    string
	ContentType string
	// Fields are the fields to send to the client, in order, with Status
	// and the fields the server owns removed.
	Fields []Field
}

// Kind tells which kind of response h starts.
func (h *Head) Kind() Kind {
	switch {
	case h.Location == "":
		return Document
	case strings.HasPrefix(h.Location, "/") && !strings.HasPrefix(h.Location, "//") && h.Status == 0:
		return LocalRedirect
	}
	return ClientRedirect
}

// Code returns the status to answer with: Status when set, else 302 for a
// client redirect, else 200.
func (h *Head) Code() int {
	switch {
	case h.Status != 0:
		return h.Status
	case h.Location != "":
		return 302
	}
	return 200
}

// dropped are the fields of a script's head that are not sent on: the
// server frames the response and owns the connection.
var dropped = []string{
	"Status", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
	"Proxy-Connection", "Upgrade", "Te", "Trailer",
}

// Read parses the head at the start of br: header fields, one per line
// (LF or CRLF), up to a blank line; a line starting with a blank continues
// the previous field. It stops right after the blank line, so br then
// holds the start of the body. max bounds the head's size (0 means
// [DefaultMaxHead]); a larger head is a [*LimitError]. A stream that ends
// (io.EOF) before the blank line but after at least one complete field is
// accepted as a head with no body, as web servers have always done; any
// other read error is returned as is.
func Read(br *bufio.Reader, max int) (*Head, error) {
	if max <= 0 {
		max = DefaultMaxHead
	}
	h := new(Head)
	total := 0
	for {
		line, err := readLine(br, max-total)
		total += len(line)
		switch {
		case err == io.EOF && len(line) == 0:
			if len(h.Fields) == 0 && h.Status == 0 {
				return nil, malformed("the output ended before the head did")
			}
			return h.finish(), nil
		case err != nil && err != io.EOF:
			return nil, err
		}
		s := strings.TrimRight(string(line), "\r\n")
		if s == "" {
			if len(h.Fields) == 0 && h.Status == 0 {
				return nil, malformed("empty head")
			}
			return h.finish(), nil
		}
		if err := h.addLine(s); err != nil {
			return nil, err
		}
		if err == io.EOF {
			return h.finish(), nil
		}
	}
}

// readLine reads one line, including its '\n', of at most max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > max {
			return nil, &LimitError{Limit: max}
		}
		line = append(line, frag...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}

// addLine adds one field line (without its line end) to h.
func (h *Head) addLine(s string) error {
	if s[0] == ' ' || s[0] == '\t' {
		if len(h.Fields) == 0 {
			return malformed("continuation line before any field")
		}
		if !validValue(s) {
			return malformed("bad header value")
		}
		f := &h.Fields[len(h.Fields)-1]
		f.Value = strings.TrimSpace(f.Value + " " + strings.TrimSpace(s))
		return nil
	}
	name, value, ok := strings.Cut(s, ":")
	if !ok || !validName(name) {
		return malformed("bad header line")
	}
	value = strings.TrimSpace(value)
	if !validValue(value) {
		return malformed("bad header value")
	}
	if strings.EqualFold(name, "Status") {
		code, err := parseStatus(value)
		if err != nil {
			return err
		}
		h.Status = code
		return nil
	}
	for _, d := range dropped {
		if strings.EqualFold(name, d) {
			return nil
		}
	}
	h.Fields = append(h.Fields, Field{Name: name, Value: value})
	return nil
}

// finish sets Location and ContentType from the first such fields.
func (h *Head) finish() *Head {
	for _, f := range h.Fields {
		switch {
		case h.Location == "" && strings.EqualFold(f.Name, "Location"):
			h.Location = f.Value
		case h.ContentType == "" && strings.EqualFold(f.Name, "Content-Type"):
			h.ContentType = f.Value
		}
	}
	return h
}

// parseStatus reads "404" or "404 Not Found".
func parseStatus(v string) (int, error) {
	code, _, _ := strings.Cut(v, " ")
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 || n < 200 || n > 599 {
		return 0, malformed("bad Status")
	}
	return n, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

type malformedError struct{ msg string }

func (e *malformedError) Error() string { return "cgihead: " + e.msg }
func (e *malformedError) Unwrap() error { return ErrMalformed }

func malformed(msg string) error { return &malformedError{msg} }
