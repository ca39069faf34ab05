package engine

import "os"

// segKind is what a queued output segment holds.
type segKind uint8

const (
	segCopy segKind = iota // bytes copied into output.buf[start:end]
	segRef                 // caller's bytes, not copied (WriteNoCopy)
	segFile                // a file range, sent with sendfile
)

// segment is one piece of queued output. Sent bytes are trimmed from its
// front, so a segment always describes what is left.
type segment struct {
	kind       segKind
	start, end int    // segCopy: range in output.buf
	ref        []byte // segRef: what is left to send
	file       *os.File
	fd         int   // segFile: file's descriptor
	off, n     int64 // segFile: next offset and bytes left
	release    func(*os.File)
}

// output is a connection's queue of unsent bytes. It exists only while there
// is something to send: it comes from the worker's pool on the first write
// and goes back once everything is flushed.
type output struct {
	buf  []byte    // backing store for segCopy segments
	segs []segment // segs[head:] are unsent
	head int
}

const (
	outputBufSize = 4 << 10  // initial copy buffer of a pooled output
	outputBufKeep = 64 << 10 // a larger buffer is dropped, not pooled
)

func (o *output) appendCopy(b []byte) {
	s := o.copySegment()
	o.buf = append(o.buf, b...)
	s.end = len(o.buf)
}

func (o *output) appendCopyString(str string) {
	s := o.copySegment()
	o.buf = append(o.buf, str...)
	s.end = len(o.buf)
}

// copySegment returns the segment to extend with copied bytes: the last one
// if it is a copy segment ending at the end of buf, else a new one.
func (o *output) copySegment() *segment {
	if n := len(o.segs); n > o.head {
		if s := &o.segs[n-1]; s.kind == segCopy && s.end == len(o.buf) {
			return s
		}
	}
	o.segs = append(o.segs, segment{kind: segCopy, start: len(o.buf), end: len(o.buf)})
	return &o.segs[len(o.segs)-1]
}

func (o *output) appendRef(b []byte) {
	if len(b) == 0 {
		return
	}
	o.segs = append(o.segs, segment{kind: segRef, ref: b})
}

func (o *output) appendFile(f *os.File, off, n int64, release func(*os.File)) {
	if n <= 0 {
		if release != nil {
			release(f)
		}
		return
	}
	o.segs = append(o.segs, segment{kind: segFile, file: f, fd: int(f.Fd()), off: off, n: n, release: release})
}

// empty reports whether nothing is left to send.
func (o *output) empty() bool { return o.head == len(o.segs) }

// pending counts the bytes left to send.
func (o *output) pending() int64 {
	var n int64
	for i := o.head; i < len(o.segs); i++ {
		n += o.segs[i].len()
	}
	return n
}

// len is the number of bytes left in s.
func (s *segment) len() int64 {
	switch s.kind {
	case segCopy:
		return int64(s.end - s.start)
	case segRef:
		return int64(len(s.ref))
	}
	return s.n
}

// bytes returns the memory of a copy or ref segment.
func (o *output) bytes(s *segment) []byte {
	if s.kind == segCopy {
		return o.buf[s.start:s.end]
	}
	return s.ref
}

// advance trims n sent bytes off the front of the memory segments starting
// at head, dropping those fully sent.
func (o *output) advance(n int) {
	for n > 0 && o.head < len(o.segs) {
		s := &o.segs[o.head]
		l := int(s.len())
		if n < l {
			if s.kind == segCopy {
				s.start += n
			} else {
				s.ref = s.ref[n:]
			}
			return
		}
		n -= l
		o.done(s)
	}
}

// done drops the head segment, which has been sent entirely.
func (o *output) done(s *segment) {
	if s.kind == segFile && s.release != nil {
		s.release(s.file)
	}
	*s = segment{}
	o.head++
}

// reset releases every unsent file and empties the queue for reuse.
func (o *output) reset() {
	for i := o.head; i < len(o.segs); i++ {
		if s := &o.segs[i]; s.kind == segFile && s.release != nil {
			s.release(s.file)
		}
	}
	clear(o.segs)
	o.segs = o.segs[:0]
	o.head = 0
	if cap(o.buf) > outputBufKeep {
		o.buf = nil
	} else {
		o.buf = o.buf[:0]
	}
}
