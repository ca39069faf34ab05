package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// checkResult is the outcome of the last active check of a server, in
// HAProxy's terms: L4CON (connect failed), L4TOUT / L7TOUT (timeout),
// L7STS (unexpected status), L7RSP (broken response), L7OK.
type checkResult struct {
	At       time.Time
	OK       bool
	Status   string
	Code     int // HTTP status, 0 when none came
	Duration time.Duration
	Detail   string
}

// startChecker starts the pool's health-check goroutine: every interval it
// checks each server with the check flag, all at once, each within the
// interval.
func (pl *pool) startChecker() {
	pl.stop = make(chan struct{})
	pl.stopped = make(chan struct{})
	go pl.checkLoop()
}

// stopChecker stops the goroutine and waits for it; it is a no-op when
// none was started, and may be called more than once.
func (pl *pool) stopChecker() {
	if pl.stop == nil {
		return
	}
	pl.stopOnce.Do(func() { close(pl.stop) })
	<-pl.stopped
}

func (pl *pool) checkLoop() {
	defer close(pl.stopped)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-pl.stop
		cancel()
	}()
	tick := time.NewTicker(pl.check.interval)
	defer tick.Stop()
	for {
		pl.checkAll(ctx)
		select {
		case <-pl.stop:
			return
		case <-tick.C:
		}
	}
}

func (pl *pool) checkAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range pl.servers {
		if s.check {
			wg.Go(func() { pl.checkServer(ctx, s) })
		}
	}
	wg.Wait()
}

// checkServer runs one check of s and applies rise and fall.
func (pl *pool) checkServer(ctx context.Context, s *server) {
	res := pl.probe(ctx, s)
	if ctx.Err() != nil {
		return // stopping: the result means nothing
	}
	s.last.Store(res)
	if res.OK {
		s.failRun.Store(0)
		n := int(s.okRun.Add(1))
		if n >= pl.check.rise && !s.up.Load() && s.up.CompareAndSwap(false, true) {
			s.fails.Store(0)
			pl.log.Info("server up", "upstream", pl.name, "server", s.name, "reason", "check", "check", res.Status)
		}
		return
	}
	s.okRun.Store(0)
	n := int(s.failRun.Add(1))
	if n >= pl.fall && s.up.CompareAndSwap(true, false) {
		pl.log.Warn("server down", "upstream", pl.name, "server", s.name, "reason", "check",
			"check", res.Status, "detail", res.Detail)
	}
}

// probe sends GET <Check path> to s on a fresh connection of its own
// transport's dialer and classifies the answer.
func (pl *pool) probe(ctx context.Context, s *server) *checkResult {
	start := time.Now()
	res := &checkResult{At: start}
	ctx, cancel := context.WithTimeout(ctx, pl.check.interval)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.addr+pl.check.path, nil)
	if err != nil {
		res.Status, res.Detail = "L7RSP", err.Error()
		return res
	}
	req.Header.Set("User-Agent", "gibbon-proxy-check")
	req.Close = true // a check measures a new connection, as HAProxy's do
	resp, err := s.transport.RoundTrip(req)
	res.Duration = time.Since(start)
	switch {
	case err != nil && isDialError(err) && isTimeout(err):
		res.Status, res.Detail = "L4TOUT", err.Error()
	case err != nil && isDialError(err):
		res.Status, res.Detail = "L4CON", err.Error()
	case err != nil && isTimeout(err):
		res.Status, res.Detail = "L7TOUT", err.Error()
	case err != nil:
		res.Status, res.Detail = "L7RSP", err.Error()
	default:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		res.Code = resp.StatusCode
		res.OK = pl.check.good(resp.StatusCode)
		res.Status = "L7OK"
		if !res.OK {
			res.Status = "L7STS"
		}
		res.Detail = strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
	}
	return res
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
