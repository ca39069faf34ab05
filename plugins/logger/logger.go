package logger

import (
	"errors"
	"log/slog"
	"time"

	"gibbon/stage"
)

// Logger writes access and error logs. Its hooks are safe for concurrent
// use.
type Logger struct {
	flush  time.Duration
	format Format
	hosts  []hostLogs // by VHost.Index

	log   *slog.Logger
	now   func() time.Time
	files []*file
}

// OnDone formats the request's line and queues it: to the host's access
// log for every request, and, for a status ≥ 400, to its error log too.
// A connection refused at stage 10 is logged on the default host with "-"
// for the request and status 0.
func (l *Logger) OnDone(r *stage.Request, o stage.Outcome) {
	if r.VHost == nil || r.VHost.Index >= len(l.hosts) {
		return
	}
	hl := &l.hosts[r.VHost.Index]
	if hl.accessFile == nil && hl.errorFile == nil {
		return
	}
	now := l.now()
	if f := hl.accessFile; f != nil {
		f.end(appendAccess(f.begin(), hl.format, r, o, now))
	}
	if f := hl.errorFile; f != nil && o.Status >= 400 {
		f.end(appendError(f.begin(), r, o, now))
	}
}

// Reopen writes what waits and reopens every log file, for log rotation
// (SIGUSR1). It is safe to call while requests are logged.
func (l *Logger) Reopen() error {
	var errs []error
	for _, f := range l.files {
		errs = append(errs, f.reopen())
	}
	return errors.Join(errs...)
}

// Cleanup writes every waiting line and closes the files, except those
// shared with the Logger of a reloaded configuration, which that one
// closes. Lines logged after Cleanup are lost; the server calls it after
// the last request. A second Cleanup does nothing.
func (l *Logger) Cleanup() error {
	var errs []error
	for _, f := range l.files {
		errs = append(errs, f.close())
	}
	l.files = nil
	return errors.Join(errs...)
}

var (
	_ stage.Observer    = (*Logger)(nil)
	_ stage.Provisioner = (*Logger)(nil)
	_ stage.Cleaner     = (*Logger)(nil)
)
