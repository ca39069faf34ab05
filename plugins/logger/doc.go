// Package logger is the logger plugin: one access-log line per request
// (Monkey's format, combined or JSON) and Monkey's error-log line for
// 4xx and 5xx answers, per virtual host, buffered in memory and written by
// one goroutine per file, never on the event loop.
//
// It is not the server's own log (log/slog) and does not rotate files:
// Reopen, called on SIGUSR1, lets logrotate move them.
package logger
