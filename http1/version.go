package http1

import "strconv"

// Version is an HTTP protocol version. The zero value is not a valid
// version; [Parse] only ever sets [Version10] or [Version11]. [Version20]
// names a request that came over HTTP/2 (the server sets it when it
// presents such a request in this package's types).
type Version uint8

// The HTTP versions this codec speaks.
const (
	Version10 Version = iota + 1 // HTTP/1.0
	Version11                    // HTTP/1.1
	Version20                    // HTTP/2.0 (never parsed here)
)

// String returns the version as it appears on the wire, e.g. "HTTP/1.1".
func (v Version) String() string {
	switch v {
	case Version10:
		return "HTTP/1.0"
	case Version11:
		return "HTTP/1.1"
	case Version20:
		return "HTTP/2.0"
	}
	return "Version(" + strconv.Itoa(int(v)) + ")"
}

// Method is a request method known to the server (RFC 9110 §9 plus PATCH).
// The zero value MethodUnknown stands for any other method token; Parse
// refuses such requests with a 501 [ParseError].
type Method uint8

// The request methods.
const (
	MethodUnknown Method = iota
	MethodGet
	MethodHead
	MethodPost
	MethodPut
	MethodDelete
	MethodConnect
	MethodOptions
	MethodTrace
	MethodPatch
)

var methodNames = [...]string{
	MethodUnknown: "UNKNOWN",
	MethodGet:     "GET",
	MethodHead:    "HEAD",
	MethodPost:    "POST",
	MethodPut:     "PUT",
	MethodDelete:  "DELETE",
	MethodConnect: "CONNECT",
	MethodOptions: "OPTIONS",
	MethodTrace:   "TRACE",
	MethodPatch:   "PATCH",
}

// String returns the method token, e.g. "GET", or "UNKNOWN" for MethodUnknown
// and for values outside the defined set.
func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return "UNKNOWN"
}

// lookupMethod maps a method token (case-sensitive, RFC 9110 §9.1) to a Method.
func lookupMethod(b []byte) Method {
	switch string(b) {
	case "GET":
		return MethodGet
	case "HEAD":
		return MethodHead
	case "POST":
		return MethodPost
	case "PUT":
		return MethodPut
	case "DELETE":
		return MethodDelete
	case "CONNECT":
		return MethodConnect
	case "OPTIONS":
		return MethodOptions
	case "TRACE":
		return MethodTrace
	case "PATCH":
		return MethodPatch
	}
	return MethodUnknown
}
