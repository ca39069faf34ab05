package engine

import (
	"os"
	"testing"
)

func TestOutputSegments(t *testing.T) {
	t.Parallel()
	var p pools
	o := p.getOutput()
	o.appendCopy([]byte("head"))
	o.appendCopyString("er")     // extends the copy segment
	o.appendRef([]byte("body"))  // new segment, not copied
	o.appendCopy([]byte("tail")) // new copy segment after the ref
	if len(o.segs) != 3 {
		t.Fatalf("%d segments, want 3", len(o.segs))
	}
	if got := o.pending(); got != 14 {
		t.Fatalf("pending = %d, want 14", got)
	}
	o.advance(3)
	if got := string(o.bytes(&o.segs[o.head])); got != "der" {
		t.Fatalf("after 3: head = %q", got)
	}
	o.advance(5)
	if got := string(o.bytes(&o.segs[o.head])); got != "dy" {
		t.Fatalf("after 8: head = %q", got)
	}
	o.advance(6)
	if !o.empty() {
		t.Fatalf("not empty after all sent")
	}
	p.putOutput(o)
	if len(p.outputs) != 1 || len(o.buf) != 0 || len(o.segs) != 0 {
		t.Fatal("output not reset into the pool")
	}
}

func TestOutputResetReleasesFiles(t *testing.T) {
	t.Parallel()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	released := 0
	rel := func(*os.File) { released++ }
	var p pools
	o := p.getOutput()
	o.appendFile(f, 0, 10, rel)
	o.appendFile(f, 0, 0, rel) // empty: released at once
	if released != 1 {
		t.Fatalf("empty segment: released %d", released)
	}
	p.putOutput(o) // connection closed with the file unsent
	if released != 2 {
		t.Fatalf("released %d, want 2", released)
	}
}

func TestKeepInput(t *testing.T) {
	t.Parallel()
	var p pools
	c := &Conn{}
	p.keepInput(c, []byte("partial"))
	if string(c.in) != "partial" || cap(c.in) != inputSmall {
		t.Fatalf("in = %q cap %d", c.in, cap(c.in))
	}
	p.keepInput(c, c.in[4:]) // aliasing its own buffer
	if string(c.in) != "ial" {
		t.Fatalf("in = %q", c.in)
	}
	big := make([]byte, inputSmall+1)
	p.keepInput(c, big)
	if cap(c.in) != MaxInput || len(p.small) != 1 {
		t.Fatalf("cap %d, small pool %d", cap(c.in), len(p.small))
	}
	p.keepInput(c, nil)
	if c.in != nil || len(p.large) != 1 {
		t.Fatalf("buffer not returned: in=%v large=%d", c.in != nil, len(p.large))
	}
}
