package cgi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"gibbon/internal/cgihead"
)

// maxStderrLine bounds one logged line of a script's stderr.
const maxStderrLine = 4 << 10

// process is one running script: the child in its own process group and
// the parent's ends of its three pipes. The handler goroutine reads stdout;
// feed, logStderr and watch run on their own goroutines, and finish waits
// for all three, so nothing touches the request after ServeGibbon returns.
type process struct {
	cmd    *exec.Cmd
	pid    int
	stdout *os.File // read end
	stderr *os.File // read end
	stdin  *os.File // write end

	stop   chan struct{} // closed by finish: watch returns
	fed    chan struct{} // closed when feed is done with the body
	logged chan struct{} // closed when logStderr is done
	wd     chan struct{} // closed when watch is done

	mu      sync.Mutex // guards the fields below
	reaped  bool       // Wait returned: the pid may be reused, never signal it
	timeout bool       // killed at the time limit

	waitOnce sync.Once
	waitErr  error
}

// start runs the script in a new process group with env, its working
// directory the script's.
func (h *handler) start(s cgihead.Script, env []string) (*process, error) {
	var cmd *exec.Cmd
	if h.interpreter != "" {
		cmd = exec.Command(h.interpreter, s.Filename)
	} else {
		cmd = exec.Command(s.Filename)
	}
	cmd.Dir = filepath.Dir(s.Filename)
	cmd.Env = append(env, "PATH="+defaultPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	var files [6]*os.File // child stdin, parent stdin; parent stdout, child stdout; ... stderr
	for i := 0; i < 6; i += 2 {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(files[:i]...)
			return nil, err
		}
		files[i], files[i+1] = r, w
	}
	inR, inW, outR, outW, errR, errW := files[0], files[1], files[2], files[3], files[4], files[5]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	err := startRetry(cmd)
	closeAll(inR, outW, errW) // the child has its copies
	if err != nil {
		closeAll(inW, outR, errR)
		return nil, err
	}
	return &process{
		cmd: cmd, pid: cmd.Process.Pid, stdin: inW, stdout: outR, stderr: errR,
		stop: make(chan struct{}), fed: make(chan struct{}), logged: make(chan struct{}), wd: make(chan struct{}),
	}, nil
}

// startRetry starts cmd, retrying a few times on ETXTBSY: a script written
// just before (by a deploy, or a test) may still be open for writing in a
// child forked meanwhile by another request, until that child's exec
// (golang.org/issue/22315).
func startRetry(cmd *exec.Cmd) error {
	for i := 0; ; i++ {
		err := cmd.Start()
		if !errors.Is(err, syscall.ETXTBSY) || i == 5 {
			return err
		}
		time.Sleep(time.Duration(i+1) * 10 * time.Millisecond)
		c := exec.Command(cmd.Path, cmd.Args[1:]...)
		c.Dir, c.Env, c.SysProcAttr = cmd.Dir, cmd.Env, cmd.SysProcAttr
		c.Stdin, c.Stdout, c.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
		*cmd = *c
	}
}

// defaultPath is the PATH a script gets.
const defaultPath = "/usr/local/bin:/usr/bin:/bin"

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

// feed copies the request body to the script's stdin and closes it. A
// script that exits without reading makes the copy fail (EPIPE); that is
// not an error of the request.
func (p *process) feed(body io.Reader) {
	defer close(p.fed)
	if body != nil {
		io.Copy(p.stdin, body)
	}
	p.stdin.Close()
}

// logStderr logs each line the script writes to stderr.
func (p *process) logStderr(log *slog.Logger, script string) {
	defer close(p.logged)
	br := bufio.NewReaderSize(p.stderr, maxStderrLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			log.Warn("cgi stderr", "script", script, "line", string(trimEOL(line)))
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// watch kills the process group at the time limit or when ctx ends (the
// client went away), whichever comes first, unless finish stops it.
func (p *process) watch(ctx context.Context, limit time.Duration) {
	defer close(p.wd)
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-t.C:
		p.mu.Lock()
		p.timeout = true
		p.mu.Unlock()
		p.kill()
	case <-ctx.Done():
		p.kill()
	case <-p.stop:
	}
}

// kill sends SIGKILL to the script's process group, unless the script was
// reaped already, and unblocks a pending read of its stdout.
func (p *process) kill() {
	p.mu.Lock()
	if !p.reaped {
		syscall.Kill(-p.pid, syscall.SIGKILL)
	}
	p.mu.Unlock()
}

func (p *process) timedOut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.timeout
}

// wait reaps the script (watch still bounds it by the time limit).
func (p *process) wait() error {
	p.waitOnce.Do(func() {
		err := p.cmd.Wait()
		p.mu.Lock()
		p.reaped = true
		p.mu.Unlock()
		p.waitErr = err
	})
	return p.waitErr
}

// finish reaps the script if needed and waits for the helper goroutines,
// so the body is no longer read when it returns. It kills the group first
// if the script is still running (the handler stops early only on error).
func (p *process) finish() {
	p.mu.Lock()
	reaped := p.reaped
	p.mu.Unlock()
	if !reaped {
		p.kill()
		p.wait()
	}
	close(p.stop)
	<-p.wd
	// Descendants that left the process group may hold the pipes open:
	// closing our ends unblocks the helpers.
	p.stdout.Close()
	p.stderr.SetReadDeadline(time.Now().Add(time.Second))
	<-p.logged
	p.stderr.Close()
	p.stdin.Close()
	<-p.fed
}
