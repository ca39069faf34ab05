package gibbon

import (
	"io"
	"path/filepath"
	"strconv"

	"gibbon/config"
	"gibbon/stage"
	"gibbon/static"
)

// staticHandler serves a directory mounted at a prefix pattern.
type staticHandler struct {
	root string
	opts static.Options
}

func newStaticHandler(pattern, dir string, m *config.Config) (*staticHandler, error) {
	rt, err := parsePattern(pattern)
	if err != nil {
		return nil, err
	}
	if last := rt.segs[len(rt.segs)-1]; !last.multi || last.s != "" {
		return nil, errorf("Static prefix %q must end with /", pattern)
	}
	root, err := absDir(dir)
	if err != nil {
		return nil, err
	}
	return &staticHandler{root: root, opts: staticOptions(m)}, nil
}

func staticOptions(m *config.Config) static.Options {
	return static.Options{
		IndexFiles:      m.Server.IndexFiles,
		Resume:          m.Server.Resume,
		SymLink:         m.Server.SymLink,
		DefaultMimeType: m.Server.DefaultMimeType,
		Mime:            m.Mime,
	}
}

// Serve answers with the file at the request path below the prefix.
func (h *staticHandler) Serve(c *Ctx) {
	rest := c.p.rest
	c.err = serveFile(c.w, c.r, h.root, []byte(stage.EscapePath(rest)), &h.opts)
}

// File answers with the file name (a path on disk) as the static handler
// does: Content-Type by extension, ETag and Last-Modified with conditional
// requests, byte ranges; the host's error page when it cannot be read.
func (c *Ctx) File(name string) error {
	abs, err := filepath.Abs(name)
	if err != nil {
		return err
	}
	opts := static.Options{Resume: true, Mime: config.DefaultMime()}
	dir, base := filepath.Split(abs)
	err = serveFile(c.w, c.r, dir, []byte(stage.EscapePath("/"+base)), &opts)
	if err != nil && c.err == nil {
		c.err = err
	}
	return err
}

// serveFile answers r with static.Serve's decision for rawPath under root,
// copying the file through w.
func serveFile(w stage.ResponseWriter, r *stage.Request, root string, rawPath []byte, opts *static.Options) error {
	sreq := static.Request{
		Method: r.Method, Path: rawPath,
		IfNoneMatch: r.Header("If-None-Match"), IfModifiedSince: r.Header("If-Modified-Since"),
		IfRange: r.Header("If-Range"), Range: r.Header("Range"),
		IfMatch: r.Header("If-Match"), IfUnmodifiedSince: r.Header("If-Unmodified-Since"),
	}
	res := static.Serve(root, &sreq, opts)
	defer res.Close()
	h := w.Header()
	if res.Allow != "" {
		h.Set("Allow", res.Allow)
	}
	switch {
	case res.Status >= 400 && res.Status != 416:
		return w.Respond(res.Status, "", nil)
	case res.Status == 301:
		loc := stage.EscapePath(r.Path) + "/"
		if r.Query != "" {
			loc += "?" + r.Query
		}
		h.Set("Location", loc)
		return w.Respond(301, "", nil)
	}
	set := func(name, v string) {
		if v != "" {
			h.Set(name, v)
		}
	}
	set("ETag", res.ETag)
	set("Last-Modified", res.LastModified)
	set("Content-Range", res.ContentRange)
	if res.AcceptRanges {
		h.Set("Accept-Ranges", "bytes")
	}
	if res.Status != 304 {
		set("Content-Type", res.ContentType)
		h.Set("Content-Length", strconv.FormatInt(res.ContentLength, 10))
	}
	w.WriteHeader(res.Status)
	for _, p := range res.Parts {
		if _, err := w.Write(p.Prefix); err != nil {
			return err
		}
		if _, err := io.Copy(w, io.NewSectionReader(res.File, p.Offset, p.Length)); err != nil {
			return err
		}
	}
	if len(res.Trailer) > 0 {
		_, err := w.Write(res.Trailer)
		return err
	}
	return nil
}

// absDir returns dir made absolute, checking it is a directory.
func absDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return abs, checkDir(abs)
}
