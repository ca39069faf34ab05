package cgi

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"gibbon/config"
	"gibbon/plugins/internal/cgistage"
	"gibbon/stage"
)

func init() { stage.Register("cgi", func() stage.Plugin { return new(CGI) }) }

// Defaults of the [CGI] keys.
const (
	DefaultTimeLimit    = 30 * time.Second
	DefaultMaxProcesses = 64
	DefaultQueueTimeout = 10 * time.Second
)

// Decode reads [CGI] in plugins/cgi/cgi.conf (or plugins/cgi.conf):
//
//	TimeLimit    <seconds>   wall-clock limit of one script run (default 30)
//	MaxProcesses <n>         CGI processes running at once (default 64)
//	QueueTimeout <seconds>   how long a request waits for a free process slot, then 503 (default 10)
//
// A time is whole seconds or a Go duration ("500ms").
func (c *CGI) Decode(pc *stage.PluginConfig) error {
	c.timeLimit, c.maxProcs, c.queueTimeout = DefaultTimeLimit, DefaultMaxProcesses, DefaultQueueTimeout
	for _, sec := range pc.Sections {
		if sec.Name != "CGI" {
			return &config.Error{File: sec.File, Line: sec.Line, Key: "[" + sec.Name + "]", Msg: "unknown section (want [CGI])"}
		}
		for _, e := range sec.Entries {
			var err error
			switch {
			case strings.EqualFold(e.Key, "TimeLimit"):
				c.timeLimit, err = cgistage.Duration(e.Value)
			case strings.EqualFold(e.Key, "QueueTimeout"):
				c.queueTimeout, err = cgistage.Duration(e.Value)
			case strings.EqualFold(e.Key, "MaxProcesses"):
				c.maxProcs, err = strconv.Atoi(e.Value)
				if err == nil && c.maxProcs < 1 {
					err = errors.New("must be at least 1")
				}
			default:
				return stage.UnknownKey(e, "CGI")
			}
			if err != nil {
				return e.Errorf("%v", err)
			}
		}
	}
	return nil
}

// Provision takes the logger and makes the process slots.
func (c *CGI) Provision(ctx *stage.Context) error {
	c.log = ctx.Logger()
	c.slots = make(chan struct{}, c.maxProcs)
	return nil
}

// MakeHandler builds the handler of one [HANDLERS] rule:
//
//	Match <regex> cgi [interpreter] [mimetype]
//
// interpreter, when given and not "-", runs the script as its argument
// (the script then need not be executable); mimetype is the Content-Type
// of a response whose script sends none.
func (c *CGI) MakeHandler(params []string) (stage.Handler, error) {
	h := &handler{c: c}
	switch len(params) {
	case 2:
		h.mimetype = params[1]
		if !strings.Contains(h.mimetype, "/") {
			return nil, errors.New("mimetype must look like type/subtype")
		}
		fallthrough
	case 1:
		if params[0] != "-" {
			h.interpreter = params[0]
			if !strings.HasPrefix(h.interpreter, "/") {
				return nil, errors.New("interpreter must be an absolute path")
			}
		}
	case 0:
	default:
		return nil, errors.New("want Match <regex> cgi [interpreter] [mimetype]")
	}
	return h, nil
}
