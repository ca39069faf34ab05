package logger

import (
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Buffer sizes of one log file.
const (
	// flushAt wakes the writer early when this many bytes wait.
	flushAt = 64 << 10
	// maxPending is the most bytes kept waiting; lines beyond it (the disk
	// cannot keep up) are dropped and counted rather than stalling the
	// event loop.
	maxPending = 8 << 20
)

// file is one log file: lines are appended to a buffer under mu by the
// hooks (no I/O on the event loop) and written by the file's own
// goroutine every flush interval, or sooner when the buffer is large.
type file struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex // guards buf, dropped
	buf     []byte
	dropped int

	wmu sync.Mutex // guards f; held while writing and reopening
	f   *os.File

	// users counts the Loggers writing to the file (a reload shares it
	// with the next one); guarded by mu. The last close closes it.
	users  int
	every  chan time.Duration // a new flush interval for run
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	closed bool // guarded by mu
}

func openOS(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

func openFile(path string, every time.Duration, log *slog.Logger) (*file, error) {
	f, err := openOS(path)
	if err != nil {
		return nil, err
	}
	lf := &file{path: path, log: log, f: f, users: 1, every: make(chan time.Duration, 1),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go lf.run(every)
	return lf, nil
}

// begin locks the buffer and returns it; the caller appends one line
// (with its newline) and passes the result to end.
func (lf *file) begin() []byte {
	lf.mu.Lock()
	return lf.buf
}

// end stores the buffer begin returned, extended by one line, and unlocks
// it. A line that would make the buffer exceed maxPending is dropped.
func (lf *file) end(b []byte) {
	if len(b) > maxPending {
		b = b[:len(lf.buf)]
		lf.dropped++
	}
	lf.buf = b
	full := len(b) >= flushAt
	lf.mu.Unlock()
	if full {
		select {
		case lf.wake <- struct{}{}:
		default:
		}
	}
}

func (lf *file) run(every time.Duration) {
	defer close(lf.done)
	t := time.NewTicker(every)
	defer t.Stop()
	var spare []byte
	for {
		select {
		case <-lf.stop:
			lf.flush(spare)
			return
		case d := <-lf.every:
			t.Reset(d)
		case <-t.C:
		case <-lf.wake:
		}
		spare = lf.flush(spare)
	}
}

// flush swaps the buffer for spare and writes it; it returns the written
// buffer, emptied, to be the next spare.
func (lf *file) flush(spare []byte) []byte {
	lf.mu.Lock()
	data, dropped := lf.buf, lf.dropped
	lf.buf, lf.dropped = spare[:0], 0
	lf.mu.Unlock()
	if len(data) > 0 {
		lf.wmu.Lock()
		if _, err := lf.f.Write(data); err != nil {
			lf.log.Error("writing log", "file", lf.path, "err", err)
		}
		lf.wmu.Unlock()
	}
	if dropped > 0 {
		lf.log.Warn("log lines dropped: the disk does not keep up", "file", lf.path, "lines", dropped)
	}
	return data[:0]
}

// reopen writes what waits, then closes and opens the path again (after
// logrotate moved the file away).
func (lf *file) reopen() error {
	lf.flush(nil)
	f, err := openOS(lf.path)
	if err != nil {
		return err
	}
	lf.wmu.Lock()
	old := lf.f
	lf.f = f
	lf.wmu.Unlock()
	return old.Close()
}

// share adds a Logger as a user of lf, flushing every d from now on; false
// when lf is closed already.
func (lf *file) share(d time.Duration) bool {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if lf.closed {
		return false
	}
	lf.users++
	select {
	case <-lf.every: // a newer interval replaces one not taken yet
	default:
	}
	lf.every <- d
	return true
}

// close drops a user of lf (see share); the last one stops the
// goroutine, which writes what waits, and closes the file. A Logger
// closes each of its files once.
func (lf *file) close() error {
	lf.mu.Lock()
	lf.users--
	last := lf.users == 0
	lf.closed = last
	lf.mu.Unlock()
	if !last {
		return nil
	}
	close(lf.stop)
	<-lf.done
	lf.wmu.Lock()
	defer lf.wmu.Unlock()
	return errors.Join(lf.f.Sync(), lf.f.Close())
}
