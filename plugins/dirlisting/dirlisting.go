package dirlisting

import (
	"encoding/json"
	"errors"
	"html"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gibbon/config"
	"gibbon/http1"
	"gibbon/stage"
	"gibbon/static"
)

// Dirlisting lists directories. Read-only after Provision; safe for
// concurrent use.
type Dirlisting struct {
	themeName string
	themeDir  string
	themeAt   config.Entry
	json      bool
	theme     *theme
}

// entry is one listed name.
type entry struct {
	name  string
	dir   bool
	size  int64
	mtime time.Time
}

// ServeDirectory answers a request for a directory without an index file
// (the server calls it instead of answering 403).
func (d *Dirlisting) ServeDirectory(w stage.ResponseWriter, r *stage.Request) error {
	switch r.Method {
	case http1.MethodGet, http1.MethodHead:
	default:
		w.Header().Set("Allow", "GET, HEAD")
		return stage.Error(405, nil)
	}
	dir, path, err := resolve(r)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(path, "/") {
		w.Header().Set("Location", stage.EscapePath(path)+"/")
		return w.Respond(301, "", nil)
	}
	entries, err := list(dir, path != "/", r.VHost.SymLink)
	if err != nil {
		return err
	}
	if d.json && wantsJSON(r.Query) {
		return w.Respond(200, "application/json", listJSON(path, entries))
	}
	return w.Respond(200, "text/html; charset=utf-8", d.render(path, entries))
}

// ServeGibbon lets the plugin be named in [HANDLERS] too: it lists the
// directory the request names.
func (d *Dirlisting) ServeGibbon(w stage.ResponseWriter, r *stage.Request) error {
	return d.ServeDirectory(w, r)
}

// Blocking is false: reading one directory is short.
func (d *Dirlisting) Blocking() bool { return false }

// resolve returns the directory to list and its clean URL path, applying
// the static file rules.
func resolve(r *stage.Request) (dir, path string, err error) {
	vh := r.VHost
	if vh == nil || vh.DocumentRoot == "" {
		return "", "", stage.Error(500, errors.New("no document root"))
	}
	raw := stage.EscapePath(r.Path)
	if r.Path == "" {
		raw, _, _ = strings.Cut(string(r.Target), "?")
	}
	p, status := static.CleanPath([]byte(raw))
	if status != 0 {
		return "", "", stage.Error(status, nil)
	}
	root := filepath.Clean(vh.DocumentRoot)
	dir = filepath.Join(root, filepath.FromSlash(p))
	if r.File != "" {
		dir = filepath.Clean(r.File)
	}
	if dir != root && !strings.HasPrefix(dir, root+string(filepath.Separator)) {
		return "", "", stage.Error(403, errors.New("directory outside the document root"))
	}
	if !vh.SymLink {
		if err := checkLinks(root, dir); err != nil {
			return "", "", err
		}
	}
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return "", "", errStatus(err)
	case !st.IsDir():
		return "", "", stage.Error(404, nil)
	}
	return dir, p, nil
}

// checkLinks refuses (403) a symbolic link anywhere below root down to dir.
func checkLinks(root, dir string) error {
	rest := strings.TrimPrefix(dir, root)
	cur := root
	for _, seg := range strings.Split(rest, string(filepath.Separator)) {
		if seg == "" {
			continue
		}
		cur = filepath.Join(cur, seg)
		st, err := os.Lstat(cur)
		if err != nil {
			return errStatus(err)
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			return stage.Error(403, errors.New("symbolic link"))
		}
	}
	return nil
}

func errStatus(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return stage.Error(404, nil)
	case errors.Is(err, fs.ErrPermission):
		return stage.Error(403, nil)
	}
	return stage.Error(500, err)
}

// list reads dir: regular files and directories (and, with symlinks
// allowed, links to them); names starting with '.' are left out, as in
// Monkey. Directories come first, then files, each sorted by name; a ".."
// entry leads unless dir is the root of the site.
func list(dir string, parent, symlinks bool) ([]entry, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, errStatus(err)
	}
	var out []entry
	if parent {
		out = append(out, entry{name: "..", dir: true})
	}
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		var info fs.FileInfo
		if de.Type()&fs.ModeSymlink != 0 {
			if !symlinks {
				continue
			}
			info, err = os.Stat(filepath.Join(dir, name))
		} else {
			info, err = de.Info()
		}
		if err != nil || !(info.IsDir() || info.Mode().IsRegular()) {
			continue
		}
		out = append(out, entry{name: name, dir: info.IsDir(), size: info.Size(), mtime: info.ModTime()})
	}
	start := 0
	if parent {
		start = 1
	}
	sort.Slice(out[start:], func(i, j int) bool {
		a, b := out[start+i], out[start+j]
		if a.dir != b.dir {
			return a.dir
		}
		return a.name < b.name
	})
	return out, nil
}

func (d *Dirlisting) render(path string, entries []entry) []byte {
	title := html.EscapeString(path)
	global := func(t tag) string {
		if t == tagHTMLTitle {
			return title
		}
		return ""
	}
	b := d.theme.header.render(nil, global)
	for i := range entries {
		e := &entries[i]
		b = d.theme.entry.render(b, func(t tag) string { return e.value(t) })
	}
	return d.theme.footer.render(b, global)
}

// value returns the text of an entry tag.
func (e *entry) value(t tag) string {
	slash := ""
	if e.dir {
		slash = "/"
	}
	switch t {
	case tagTargetTitle, tagTargetName:
		return html.EscapeString(e.name) + slash
	case tagTargetURL:
		return html.EscapeString(entryURL(e.name)) + slash
	case tagTargetTime:
		if e.mtime.IsZero() {
			return "-"
		}
		return e.mtime.Format("02-Jan-2006 15:04")
	case tagTargetSize:
		if e.dir {
			return "-"
		}
		return humanSize(e.size)
	}
	return ""
}

// entryURL is the relative URL of a name: percent-encoded, and led by "./"
// when a ':' would make it look like a scheme ("c:x" → "./c:x").
func entryURL(name string) string {
	u := url.PathEscape(name)
	if strings.ContainsRune(u, ':') {
		u = "./" + u
	}
	return u
}

// humanSize formats a size as Monkey does: bytes below 1 KiB ("512b"),
// else one decimal and a unit letter ("2.0K", "1.5M").
func humanSize(n int64) string {
	const units = "bKMGTPE"
	if n < 1024 {
		return strconv.FormatInt(n, 10) + "b"
	}
	i, d := 0, int64(1)
	for i+1 < len(units) && n/(d*1024) > 0 {
		d *= 1024
		i++
	}
	return strconv.FormatFloat(float64(n)/float64(d), 'f', 1, 64) + units[i:i+1]
}

func wantsJSON(query string) bool {
	if query == "" {
		return false
	}
	q, err := url.ParseQuery(query)
	return err == nil && q.Get("format") == "json"
}

type jsonEntry struct {
	Name  string `json:"name"`
	URL   string `json:"url"`
	Dir   bool   `json:"dir"`
	Size  int64  `json:"size"`
	MTime string `json:"mtime,omitempty"`
}

func listJSON(path string, entries []entry) []byte {
	out := struct {
		Path    string      `json:"path"`
		Entries []jsonEntry `json:"entries"`
	}{Path: path, Entries: make([]jsonEntry, 0, len(entries))}
	for _, e := range entries {
		je := jsonEntry{Name: e.name, URL: entryURL(e.name), Dir: e.dir}
		if e.dir {
			je.URL += "/"
		} else {
			je.Size = e.size
		}
		if !e.mtime.IsZero() {
			je.MTime = e.mtime.UTC().Format(time.RFC3339)
		}
		out.Entries = append(out.Entries, je)
	}
	b, _ := json.Marshal(out)
	return append(b, '\n')
}

var (
	_ stage.Lister      = (*Dirlisting)(nil)
	_ stage.Handler     = (*Dirlisting)(nil)
	_ stage.Provisioner = (*Dirlisting)(nil)
)
