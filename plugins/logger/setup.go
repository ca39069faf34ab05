package logger

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"gibbon/config"
	"gibbon/stage"
)

func init() { stage.Register("logger", func() stage.Plugin { return new(Logger) }) }

// DefaultFlushTimeout is how long lines wait in memory before they are
// written (Monkey's FlushTimeout default).
const DefaultFlushTimeout = 3 * time.Second

// hostLogs is the logging setup of one virtual host.
type hostLogs struct {
	access, errors string // paths as written
	format         Format
	accessFile     *file
	errorFile      *file
}

// Decode reads [LOGGER] in plugins/logger/logger.conf (FlushTimeout,
// MasterLog, Format) and the [LOGGER] section of each site file
// (AccessLog, ErrorLog, Format).
func (l *Logger) Decode(c *stage.PluginConfig) error {
	l.flush = DefaultFlushTimeout
	l.format = FormatMonkey
	for _, sec := range c.Sections {
		if sec.Name != "LOGGER" {
			return &config.Error{File: sec.File, Line: sec.Line, Key: "[" + sec.Name + "]", Msg: "unknown section (want [LOGGER])"}
		}
		for _, e := range sec.Entries {
			switch {
			case strings.EqualFold(e.Key, "FlushTimeout"):
				n, err := strconv.Atoi(e.Value)
				if err != nil || n <= 0 {
					return e.Errorf("want a number of seconds > 0")
				}
				l.flush = time.Duration(n) * time.Second
			case strings.EqualFold(e.Key, "MasterLog"):
				// Monkey's server log: accepted and not used; gibbon has
				// no daemon mode and logs to stderr.
			case strings.EqualFold(e.Key, "Format"):
				f, err := parseFormat(e)
				if err != nil {
					return err
				}
				l.format = f
			default:
				return stage.UnknownKey(e, "LOGGER")
			}
		}
	}
	l.hosts = make([]hostLogs, len(c.Hosts))
	for i, h := range c.Hosts {
		hl := &l.hosts[i]
		hl.format = l.format
		for _, sec := range h.Find("LOGGER") {
			for _, e := range sec.Entries {
				switch {
				case strings.EqualFold(e.Key, "AccessLog"):
					hl.access = e.Value
				case strings.EqualFold(e.Key, "ErrorLog"):
					hl.errors = e.Value
				case strings.EqualFold(e.Key, "Format"):
					f, err := parseFormat(e)
					if err != nil {
						return err
					}
					hl.format = f
				default:
					return stage.UnknownKey(e, "LOGGER")
				}
			}
		}
	}
	return nil
}

func parseFormat(e config.Entry) (Format, error) {
	switch strings.ToLower(e.Value) {
	case "monkey":
		return FormatMonkey, nil
	case "combined":
		return FormatCombined, nil
	case "json":
		return FormatJSON, nil
	}
	return 0, e.Errorf("unknown format %q (want monkey, combined or json)", e.Value)
}

// Provision opens the log files (each path once, created 0600, appended
// to) and starts one flushing goroutine per file. On a reload a file the
// previous Logger has open is shared with it rather than opened again:
// one writer per file, lines in order, none lost; whichever of the two is
// cleaned up last closes it.
func (l *Logger) Provision(ctx *stage.Context) error {
	l.log = ctx.Logger()
	l.now = ctx.Now
	files := make(map[string]*file)
	if prev, ok := ctx.Previous().(*Logger); ok {
		for _, f := range prev.files {
			files[f.path] = f
		}
	}
	open := func(p string) (*file, error) {
		if p == "" {
			return nil, nil
		}
		p = ctx.Path(p)
		f, ok := files[p]
		switch {
		case ok && slices.Contains(l.files, f):
			return f, nil
		case ok && f.share(l.flush):
		default:
			var err error
			if f, err = openFile(p, l.flush, l.log); err != nil {
				return nil, err
			}
			files[p] = f
		}
		l.files = append(l.files, f)
		return f, nil
	}
	for i := range l.hosts {
		hl := &l.hosts[i]
		var err error
		if hl.accessFile, err = open(hl.access); err != nil {
			return err
		}
		if hl.errorFile, err = open(hl.errors); err != nil {
			return err
		}
	}
	return nil
}
