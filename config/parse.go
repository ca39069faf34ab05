package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Limits of the low-level parser. They bound the work a hostile or broken
// file can cause; real configurations are far below them.
const (
	// MaxFileSize is the largest file the parser reads, in bytes.
	MaxFileSize = 1 << 20
	// MaxIncludeDepth is how deep @INCLUDE directives may nest.
	MaxIncludeDepth = 16
	// maxErrors stops a parse after this many errors in one call.
	maxErrors = 100
)

// ParseFile reads the file at path and parses it with [Parse].
func ParseFile(path string) ([]*Section, []Warning, error) {
	src, err := osFS{}.ReadFile(path)
	if err != nil {
		return nil, nil, &Error{File: path, Msg: causeText(err), Err: err}
	}
	return Parse(path, src)
}

// Parse parses src, the text of the file named file, into its sections in
// the order they appear. @INCLUDE directives are followed: a relative path
// or glob is taken relative to the directory of the file that contains the
// directive. Sections of included files are inserted where the directive
// stands; entries of an included file that come before its first section
// header continue the section that was open at the directive.
//
// Every error is an [*Error]; when there are several they are joined with
// [errors.Join]. On error the sections returned are those parsed so far,
// useful for diagnostics only. See docs/CONFIG.md for the syntax.
func Parse(file string, src []byte) ([]*Section, []Warning, error) {
	return parseWith(osFS{}, file, src)
}

func parseWith(fsys fileSystem, file string, src []byte) ([]*Section, []Warning, error) {
	p := &parser{fsys: fsys, seen: make(map[string]string)}
	abs := absPath(file)
	p.seen[abs] = file
	p.stack = append(p.stack, abs)
	p.parseText(file, src, nil)
	return p.sections, p.warnings, p.errs.join()
}

// fileSystem is what the parser needs from the operating system, so that
// tests and the fuzz target can run without touching real files.
type fileSystem interface {
	// ReadFile returns the contents of a regular file of at most
	// MaxFileSize bytes.
	ReadFile(path string) ([]byte, error)
	// Glob returns the regular files matching pattern in lexical order,
	// leaving out hidden files (".name") and backup files ("name~").
	Glob(pattern string) ([]string, error)
}

type osFS struct{}

var (
	errNotRegular = errors.New("not a regular file")
	errTooLarge   = fmt.Errorf("file larger than %d bytes", MaxFileSize)
)

func (osFS) ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errNotRegular
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, errTooLarge
	}
	return b, nil
}

func (osFS) Glob(pattern string) ([]string, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	out := matches[:0]
	for _, m := range matches {
		if skipName(filepath.Base(m)) {
			continue
		}
		if st, err := os.Stat(m); err != nil || !st.Mode().IsRegular() {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// skipName reports whether a file name is left out of site directories and
// include globs: hidden files and editor backups.
func skipName(name string) bool {
	return name == "" || name[0] == '.' || strings.HasSuffix(name, "~")
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// causeText is the message for an I/O error, without the path that the
// *Error already names.
func causeText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

type parser struct {
	fsys     fileSystem
	sections []*Section
	warnings []Warning
	errs     errorList
	stack    []string          // absolute paths of the files being read, outermost first
	seen     map[string]string // absolute path → "file:line" of the directive that read it
}

// fileState is the per-file part of the parse: each file sets its own
// indentation.
type fileState struct {
	name       string
	indent     string // indentation of entries, set by the first entry line
	indentLine int
	current    *Section // section that entries go into
}

func (p *parser) full() bool { return len(p.errs) >= maxErrors }

func (p *parser) errorf(file string, line int, key, format string, args ...any) {
	if p.full() {
		return
	}
	p.errs.add(file, line, key, format, args...)
	if p.full() {
		p.errs.add(file, line, "", "too many errors, giving up")
	}
}

func (p *parser) parseText(name string, src []byte, current *Section) {
	st := &fileState{name: name, current: current}
	text := string(src)
	text = strings.TrimPrefix(text, "\uFEFF")
	for n := 1; text != "" && !p.full(); n++ {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		line = strings.TrimSuffix(line, "\r")
		p.parseLine(st, n, line)
	}
}

func (p *parser) parseLine(st *fileState, n int, line string) {
	if c, ok := controlChar(line); ok {
		p.errorf(st.name, n, "", "control character %#02x in line", c)
		return
	}
	line = strings.TrimRight(line, " \t")
	if line == "" {
		return
	}
	switch line[0] {
	case '#':
		return
	case '[':
		p.sectionHeader(st, n, line)
	case '@':
		p.directive(st, n, line)
	case ' ', '\t':
		p.entry(st, n, line)
	default:
		key, _ := splitKeyValue(line)
		p.errorf(st.name, n, key, "entry must be indented under a section header")
	}
}

func controlChar(s string) (byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return c, true
		}
	}
	return 0, false
}

// splitKeyValue splits "Key   value words" at the first blank.
func splitKeyValue(s string) (key, value string) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.Trim(s[i:], " \t")
}

func (p *parser) sectionHeader(st *fileState, n int, line string) {
	if !strings.HasSuffix(line, "]") || len(line) < 2 {
		p.errorf(st.name, n, "", "bad section header %q: want [NAME]", line)
		return
	}
	name := strings.Trim(line[1:len(line)-1], " \t")
	if !validSectionName(name) {
		p.errorf(st.name, n, "", "bad section name %q: want letters, digits, '_', '-' or '.'", name)
		return
	}
	sec := &Section{Name: strings.ToUpper(name), File: st.name, Line: n}
	p.sections = append(p.sections, sec)
	st.current = sec
}

func validSectionName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_' || c == '-' || c == '.':
		default:
			return false
		}
	}
	return true
}

func (p *parser) entry(st *fileState, n int, line string) {
	body := strings.TrimLeft(line, " \t")
	indent := line[:len(line)-len(body)]
	switch body[0] {
	case '#':
		return // comments may be indented any way
	case '[':
		p.errorf(st.name, n, "", "section header must start at the beginning of the line")
		return
	case '@':
		key, _ := splitKeyValue(body)
		p.errorf(st.name, n, key, "directive must start at the beginning of the line")
		return
	}
	key, value := splitKeyValue(body)
	if st.indent == "" {
		st.indent, st.indentLine = indent, n
	} else if indent != st.indent {
		p.errorf(st.name, n, key, "indentation is %s, but line %d set it to %s",
			describeIndent(indent), st.indentLine, describeIndent(st.indent))
		return
	}
	if value == "" {
		p.errorf(st.name, n, key, "key has no value")
		return
	}
	if st.current == nil {
		p.errorf(st.name, n, key, "entry outside a section")
		return
	}
	st.current.Entries = append(st.current.Entries, Entry{Key: key, Value: value, File: st.name, Line: n})
}

// describeIndent names an indentation in words: "4 spaces", "1 tab",
// "2 spaces then 1 tab".
func describeIndent(s string) string {
	var parts []string
	for s != "" {
		c := s[0]
		k := len(s) - len(strings.TrimLeft(s, string(c)))
		word := "space"
		if c == '\t' {
			word = "tab"
		}
		if k != 1 {
			word += "s"
		}
		parts = append(parts, fmt.Sprintf("%d %s", k, word))
		s = s[k:]
	}
	return strings.Join(parts, " then ")
}

func (p *parser) directive(st *fileState, n int, line string) {
	word, arg := splitKeyValue(line)
	if !strings.EqualFold(word, "@INCLUDE") {
		if len(word) < 2 {
			p.errorf(st.name, n, word, "directive has no name")
			return
		}
		p.warnings = append(p.warnings, Warning{File: st.name, Line: n, Key: word,
			Msg: "unknown directive ignored (only @INCLUDE is supported)"})
		return
	}
	if arg == "" {
		p.errorf(st.name, n, word, "missing path")
		return
	}
	target := arg
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(st.name), target)
	}
	if !strings.ContainsAny(arg, "*?[") {
		p.include(st, n, word, target)
		return
	}
	matches, err := p.fsys.Glob(target)
	if err != nil {
		p.errorf(st.name, n, word, "bad pattern %q: %v", arg, err)
		return
	}
	if len(matches) == 0 {
		p.warnings = append(p.warnings, Warning{File: st.name, Line: n, Key: word,
			Msg: fmt.Sprintf("pattern %q matches no file", arg)})
	}
	for _, m := range matches {
		if p.full() {
			return
		}
		p.include(st, n, word, m)
	}
}

func (p *parser) include(st *fileState, n int, word, path string) {
	abs := absPath(path)
	for i, f := range p.stack {
		if f == abs {
			chain := append(append([]string(nil), p.stack[i:]...), abs)
			p.errorf(st.name, n, word, "include cycle: %s", strings.Join(chain, " -> "))
			return
		}
	}
	if where, ok := p.seen[abs]; ok {
		p.errorf(st.name, n, word, "%s is already included (by %s)", path, where)
		return
	}
	if len(p.stack) > MaxIncludeDepth {
		p.errorf(st.name, n, word, "includes nested deeper than %d", MaxIncludeDepth)
		return
	}
	src, err := p.fsys.ReadFile(path)
	if err != nil {
		if !p.full() {
			p.errs.addErr(&Error{File: st.name, Line: n, Key: word, Msg: path + ": " + causeText(err), Err: err})
		}
		return
	}
	p.seen[abs] = fmt.Sprintf("%s:%d", st.name, n)
	p.stack = append(p.stack, abs)
	p.parseText(path, src, st.current)
	p.stack = p.stack[:len(p.stack)-1]
}
