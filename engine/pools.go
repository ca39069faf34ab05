package engine

// pools are a worker's free lists. They are owned by the worker loop, so
// they need no locking, unlike sync.Pool they are never emptied by the GC,
// and their size is bounded so a burst does not pin memory for ever.
type pools struct {
	outputs []*output
	small   [][]byte // input buffers of cap inputSmall
	large   [][]byte // input buffers of cap MaxInput
}

const (
	inputSmall = 4 << 10 // most partial requests (a header block) fit here

	keepOutputs = 1024
	keepSmall   = 4096
	keepLarge   = 64
)

func (p *pools) getOutput() *output {
	if n := len(p.outputs); n > 0 {
		o := p.outputs[n-1]
		p.outputs[n-1] = nil
		p.outputs = p.outputs[:n-1]
		return o
	}
	return &output{buf: make([]byte, 0, outputBufSize), segs: make([]segment, 0, 4)}
}

// putOutput resets o (releasing unsent files) and keeps it for reuse.
func (p *pools) putOutput(o *output) {
	o.reset()
	if len(p.outputs) < keepOutputs {
		p.outputs = append(p.outputs, o)
	}
}

// getInput returns an empty buffer with room for at least n bytes. Only
// the input of a hand-off may exceed MaxInput; such a buffer is not pooled.
func (p *pools) getInput(n int) []byte {
	if n > MaxInput {
		return make([]byte, 0, n)
	}
	list := &p.large
	size := MaxInput
	if n <= inputSmall {
		list, size = &p.small, inputSmall
	}
	if k := len(*list); k > 0 {
		b := (*list)[k-1]
		(*list)[k-1] = nil
		*list = (*list)[:k-1]
		return b
	}
	return make([]byte, 0, size)
}

func (p *pools) putInput(b []byte) {
	switch cap(b) {
	case inputSmall:
		if len(p.small) < keepSmall {
			p.small = append(p.small, b[:0])
		}
	case MaxInput:
		if len(p.large) < keepLarge {
			p.large = append(p.large, b[:0])
		}
	}
}

// keepInput stores rest, the input OnData left unconsumed, in c.in: in the
// buffer c already holds if it fits (rest may alias it), else in one from
// the pool. With nothing left, c's buffer goes back to the pool.
func (p *pools) keepInput(c *Conn, rest []byte) {
	if len(rest) == 0 {
		if c.in != nil {
			p.putInput(c.in)
			c.in = nil
		}
		return
	}
	if cap(c.in) < len(rest) {
		b := p.getInput(len(rest))
		if c.in != nil {
			p.putInput(c.in)
		}
		c.in = b
	}
	c.in = c.in[:len(rest)]
	copy(c.in, rest)
}
