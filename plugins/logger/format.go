package logger

import (
	"encoding/json"
	"strconv"
	"time"

	"gibbon/http1"
	"gibbon/stage"
)

// Format is an access-log line format.
type Format uint8

// The formats.
const (
	// FormatMonkey is Monkey's line:
	//	IP - [02/Jan/2006 15:04:05 -0700] METHOD URI PROTOCOL STATUS BYTES
	FormatMonkey Format = iota
	// FormatCombined is Apache's and nginx's combined format:
	//	IP - user [02/Jan/2006:15:04:05 -0700] "METHOD URI PROTOCOL" STATUS BYTES "referer" "user-agent"
	FormatCombined
	// FormatJSON is one JSON object per line (see README.md).
	FormatJSON
)

// String returns the name used in the configuration.
func (f Format) String() string {
	switch f {
	case FormatMonkey:
		return "monkey"
	case FormatCombined:
		return "combined"
	case FormatJSON:
		return "json"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// appendAccess appends the access line of one request to b.
func appendAccess(b []byte, f Format, r *stage.Request, o stage.Outcome, now time.Time) []byte {
	switch f {
	case FormatCombined:
		return appendCombined(b, r, o, now)
	case FormatJSON:
		return appendJSON(b, r, o, now)
	}
	return appendMonkey(b, r, o, now)
}

func appendIP(b []byte, r *stage.Request) []byte {
	if !r.Conn.Remote.IsValid() {
		return append(b, '-')
	}
	return r.Conn.Remote.Addr().Unmap().AppendTo(b)
}

// appendMonkey writes Monkey's format. A connection refused at stage 10
// has no request: "-" stands for method, URI and protocol.
func appendMonkey(b []byte, r *stage.Request, o stage.Outcome, now time.Time) []byte {
	b = appendIP(b, r)
	b = append(b, " - ["...)
	b = now.AppendFormat(b, "02/Jan/2006 15:04:05 -0700")
	b = append(b, "] "...)
	b = appendRequestLine(b, r)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(o.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, o.Bytes, 10)
	return append(b, '\n')
}

// appendRequestLine writes "METHOD TARGET PROTO", or "- - -" when there
// was no request.
func appendRequestLine(b []byte, r *stage.Request) []byte {
	if len(r.MethodName) == 0 {
		return append(b, "- - -"...)
	}
	b = appendSafe(b, r.MethodName)
	b = append(b, ' ')
	b = appendSafe(b, r.Target)
	b = append(b, ' ')
	return append(b, protoName(r.Proto)...)
}

func protoName(v http1.Version) string {
	if v == 0 {
		return "-"
	}
	return v.String()
}

func appendCombined(b []byte, r *stage.Request, o stage.Outcome, now time.Time) []byte {
	b = appendIP(b, r)
	b = append(b, " - "...)
	if r.User != "" {
		b = appendSafe(b, []byte(r.User))
	} else {
		b = append(b, '-')
	}
	b = append(b, " ["...)
	b = now.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	if len(r.MethodName) == 0 {
		b = append(b, '-')
	} else {
		b = appendRequestLine(b, r)
	}
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(o.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, o.Bytes, 10)
	b = append(b, " \""...)
	b = appendOrDash(b, r.Header("Referer"))
	b = append(b, "\" \""...)
	b = appendOrDash(b, r.Header("User-Agent"))
	return append(b, "\"\n"...)
}

func appendOrDash(b, v []byte) []byte {
	if len(v) == 0 {
		return append(b, '-')
	}
	return appendSafe(b, v)
}

// appendSafe appends v with '"', '\\', blanks other than space, control
// bytes and bytes ≥ 0x7f written as \xHH (as nginx does), so that a line
// cannot be split or forged by what a client sends.
func appendSafe(b, v []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range v {
		if c < ' ' || c >= 0x7f || c == '"' || c == '\\' {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

type jsonLine struct {
	Time       string `json:"time"`
	Remote     string `json:"remote"`
	Host       string `json:"host"`
	Method     string `json:"method,omitempty"`
	URI        string `json:"uri,omitempty"`
	Proto      string `json:"proto,omitempty"`
	Status     int    `json:"status"`
	Bytes      int64  `json:"bytes"`
	DurationMS int64  `json:"duration_ms"`
	User       string `json:"user,omitempty"`
	Referer    string `json:"referer,omitempty"`
	UserAgent  string `json:"user_agent,omitempty"`
	Refused    string `json:"refused,omitempty"`
	Plugin     string `json:"plugin,omitempty"`
}

func appendJSON(b []byte, r *stage.Request, o stage.Outcome, now time.Time) []byte {
	l := jsonLine{
		Time:       now.Format(time.RFC3339),
		Remote:     string(appendIP(nil, r)),
		Method:     string(r.MethodName),
		URI:        string(r.Target),
		Status:     o.Status,
		Bytes:      o.Bytes,
		DurationMS: o.Duration.Milliseconds(),
		User:       r.User,
		Referer:    string(r.Header("Referer")),
		UserAgent:  string(r.Header("User-Agent")),
		Plugin:     o.Plugin,
	}
	if r.Proto != 0 {
		l.Proto = r.Proto.String()
	}
	if r.VHost != nil {
		l.Host = r.VHost.Name
	}
	if o.RefusedAt != 0 {
		l.Refused = o.RefusedAt.String()
	}
	j, _ := json.Marshal(l) // strings are made valid UTF-8; cannot fail
	b = append(b, j...)
	return append(b, '\n')
}

// appendError appends Monkey's error-log line for a status ≥ 400:
//
//	IP - [date] [error 404] Not Found /uri
func appendError(b []byte, r *stage.Request, o stage.Outcome, now time.Time) []byte {
	b = appendIP(b, r)
	b = append(b, " - ["...)
	b = now.AppendFormat(b, "02/Jan/2006 15:04:05 -0700")
	b = append(b, "] [error "...)
	b = strconv.AppendInt(b, int64(o.Status), 10)
	b = append(b, "] "...)
	b = append(b, http1.StatusText(o.Status)...)
	if len(r.Target) > 0 {
		b = append(b, ' ')
		b = appendSafe(b, r.Target)
	}
	return append(b, '\n')
}
