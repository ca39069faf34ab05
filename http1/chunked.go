package http1

import "bytes"

// DefaultMaxTrailerBytes bounds the trailer section of a chunked body when
// ChunkedDecoder.MaxTrailerBytes is zero.
const DefaultMaxTrailerBytes = 8 << 10

// maxChunkLine bounds a chunk-size line including its chunk extensions.
const maxChunkLine = 4 << 10

// The errors ChunkedDecoder returns.
var (
	errChunkSize      = perr(400, "malformed chunk size")
	errChunkOverflow  = perr(400, "chunk size overflows")
	errChunkExt       = perr(400, "malformed chunk extension")
	errChunkLine      = perr(400, "chunk-size line too long")
	errChunkCRLF      = perr(400, "chunk data not followed by CRLF")
	errTrailer        = perr(400, "malformed trailer field")
	errTrailerTooLong = perr(431, "trailer section too large")
)

// chunkState is where a ChunkedDecoder stands in the chunked grammar
// (RFC 9112 §7.1):
//
//	sizeStart → sizeDigits → (sizeBWS →) (ext →) sizeLF → data → dataCR → dataLF → sizeStart
//	sizeLF (size 0) → trailerStart → (trailerName → trailerValue → trailerLF → trailerStart)
//	trailerStart → endLF → done
type chunkState uint8

const (
	stSizeStart    chunkState = iota // expecting the first hex digit
	stSizeDigits                     // in chunk-size
	stSizeBWS                        // whitespace after chunk-size, before ';'
	stExt                            // in chunk extensions (skipped)
	stSizeLF                         // CR seen, expecting LF
	stData                           // copying chunk data
	stDataCR                         // expecting CR after data
	stDataLF                         // expecting LF after data
	stTrailerStart                   // at the start of a trailer line
	stTrailerName                    // in a trailer field name
	stTrailerValue                   // in a trailer field value
	stTrailerLF                      // CR seen in a trailer line
	stEndLF                          // CR of the final empty line seen
	stDone                           // body complete
)

// ChunkedDecoder decodes a chunked request body (RFC 9112 §7.1)
// incrementally, without doing I/O. Chunk extensions are skipped; trailer
// fields are parsed, bounded by MaxTrailerBytes, and discarded unless
// KeepTrailer is set. The zero value is ready to use. A ChunkedDecoder is
// not safe for concurrent use.
type ChunkedDecoder struct {
	// MaxTrailerBytes bounds the trailer section (after the last chunk);
	// <= 0 means DefaultMaxTrailerBytes. Exceeding it is a 431 ParseError.
	// Reset keeps it.
	MaxTrailerBytes int
	// KeepTrailer keeps the trailer fields for [ChunkedDecoder.Trailer].
	// Reset keeps it.
	KeepTrailer bool

	state   chunkState
	size    int64  // chunk-size being parsed, then the data still to copy
	lineLen int    // bytes of the current chunk-size line
	trailer int    // bytes of the trailer section so far
	kept    []byte // KeepTrailer: the trailer field lines so far, each with its CRLF
	err     error  // sticky
}

// Reset prepares d for a new body, keeping MaxTrailerBytes, KeepTrailer
// and the storage of the kept trailer.
func (d *ChunkedDecoder) Reset() {
	*d = ChunkedDecoder{MaxTrailerBytes: d.MaxTrailerBytes, KeepTrailer: d.KeepTrailer, kept: d.kept[:0]}
}

// Trailer returns the trailer fields of a body decoded to its end
// ([ChunkedDecoder.Done]) with KeepTrailer set, in order, their values
// without surrounding whitespace; nil when there are none. The views are
// valid until Reset.
func (d *ChunkedDecoder) Trailer() []Header {
	if d.state != stDone || len(d.kept) == 0 {
		return nil
	}
	var out []Header
	for rest := d.kept; len(rest) > 0; {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, _ := bytes.Cut(line, []byte(":"))
		out = append(out, Header{Name: name, Value: bytes.Trim(value, " \t")})
	}
	return out
}

// Done reports whether the last chunk and the trailer section have been
// decoded. Bytes after that belong to the next request and are never
// consumed.
func (d *ChunkedDecoder) Done() bool { return d.state == stDone }

// Decode decodes chunked data from src, copying body bytes into dst. It
// returns how many bytes of src it consumed and how many it wrote to dst.
// It stops when src is exhausted, when dst is full and chunk data is
// pending, when the body is complete ([ChunkedDecoder.Done]), or at an
// error. Unconsumed src bytes must be offered again (followed by more input)
// in the next call. Malformed input is a *[ParseError] with Status 400
// (431 for an oversized trailer section); errors are sticky.
func (d *ChunkedDecoder) Decode(dst, src []byte) (nsrc, ndst int, err error) {
	if d.err != nil {
		return 0, 0, d.err
	}
	for nsrc < len(src) {
		switch d.state {
		case stDone:
			return nsrc, ndst, nil
		case stData:
			n := min(int64(len(src)-nsrc), int64(len(dst)-ndst), d.size)
			if n == 0 {
				return nsrc, ndst, nil // dst is full
			}
			copy(dst[ndst:], src[nsrc:nsrc+int(n)])
			nsrc += int(n)
			ndst += int(n)
			d.size -= n
			if d.size == 0 {
				d.state = stDataCR
			}
		default:
			if err := d.step(src[nsrc]); err != nil {
				d.err = err
				return nsrc, ndst, err
			}
			nsrc++
		}
	}
	return nsrc, ndst, nil
}

// step advances the framing state machine by one byte.
func (d *ChunkedDecoder) step(c byte) error {
	switch d.state {
	case stSizeStart, stSizeDigits, stSizeBWS, stExt, stSizeLF:
		return d.sizeLine(c)
	case stDataCR:
		if c != '\r' {
			return errChunkCRLF
		}
		d.state = stDataLF
	case stDataLF:
		if c != '\n' {
			return errChunkCRLF
		}
		d.state = stSizeStart
		d.lineLen = 0
	default:
		return d.trailerByte(c)
	}
	return nil
}

// sizeLine handles chunk-size [ chunk-ext ] CRLF.
func (d *ChunkedDecoder) sizeLine(c byte) error {
	d.lineLen++
	if d.lineLen > maxChunkLine {
		return errChunkLine
	}
	switch d.state {
	case stSizeStart:
		v, ok := unhex(c)
		if !ok {
			return errChunkSize
		}
		d.size = v
		d.state = stSizeDigits
	case stSizeDigits:
		if v, ok := unhex(c); ok {
			if d.size > (1<<63-1)>>4 {
				return errChunkOverflow
			}
			d.size = d.size<<4 | v
			return nil
		}
		return d.afterSize(c)
	case stSizeBWS:
		switch c {
		case ' ', '\t':
		case ';':
			d.state = stExt
		default:
			return errChunkSize
		}
	case stExt:
		if c == '\r' {
			d.state = stSizeLF
		} else if !valueChar[c] {
			return errChunkExt
		}
	case stSizeLF:
		if c != '\n' {
			return errChunkSize
		}
		if d.size == 0 {
			d.state = stTrailerStart
		} else {
			d.state = stData
		}
	}
	return nil
}

// afterSize handles the first byte after the hex digits of chunk-size.
func (d *ChunkedDecoder) afterSize(c byte) error {
	switch c {
	case '\r':
		d.state = stSizeLF
	case ';':
		d.state = stExt
	case ' ', '\t':
		d.state = stSizeBWS
	default:
		return errChunkSize
	}
	return nil
}

// trailerByte handles the trailer section: *( field-line CRLF ) CRLF.
func (d *ChunkedDecoder) trailerByte(c byte) error {
	d.trailer++
	limit := d.MaxTrailerBytes
	if limit <= 0 {
		limit = DefaultMaxTrailerBytes
	}
	if d.trailer > limit {
		return errTrailerTooLong
	}
	if d.KeepTrailer && d.state != stEndLF && (d.state != stTrailerStart || c != '\r') {
		d.kept = append(d.kept, c)
	}
	switch d.state {
	case stTrailerStart:
		switch {
		case c == '\r':
			d.state = stEndLF
		case tokenChar[c]:
			d.state = stTrailerName
		default:
			return errTrailer // includes obs-fold and a bare LF
		}
	case stTrailerName:
		if c == ':' {
			d.state = stTrailerValue
		} else if !tokenChar[c] {
			return errTrailer
		}
	case stTrailerValue:
		if c == '\r' {
			d.state = stTrailerLF
		} else if !valueChar[c] {
			return errTrailer
		}
	case stTrailerLF:
		if c != '\n' {
			return errTrailer
		}
		d.state = stTrailerStart
	case stEndLF:
		if c != '\n' {
			return errTrailer
		}
		d.state = stDone
	}
	return nil
}

func unhex(c byte) (int64, bool) {
	switch {
	case '0' <= c && c <= '9':
		return int64(c - '0'), true
	case 'a' <= c && c <= 'f':
		return int64(c - 'a' + 10), true
	case 'A' <= c && c <= 'F':
		return int64(c - 'A' + 10), true
	}
	return 0, false
}
