package config

import "strings"

// Section is one "[NAME]" block of a file with the entries indented under
// it. Name is upper-case. File and Line locate the header. Entries keep the
// order of the text; an entry may come from another file than its section
// when an included file continues the section (see [Entry.File]).
type Section struct {
	Name    string
	File    string
	Line    int
	Entries []Entry
}

// Entry is one "Key value" line. Key is as written (compare it with
// [strings.EqualFold]); Value is the rest of the line with surrounding
// blanks removed and is never empty. File and Line locate the entry.
type Entry struct {
	Key   string
	Value string
	File  string
	Line  int
}

// Get returns the first entry whose key matches key, ignoring case.
func (s *Section) Get(key string) (Entry, bool) {
	for _, e := range s.Entries {
		if strings.EqualFold(e.Key, key) {
			return e, true
		}
	}
	return Entry{}, false
}

// All returns every entry whose key matches key, ignoring case, in order.
func (s *Section) All(key string) []Entry {
	var out []Entry
	for _, e := range s.Entries {
		if strings.EqualFold(e.Key, key) {
			out = append(out, e)
		}
	}
	return out
}

// Errorf returns an [*Error] located at e, for plugins that reject a value.
func (e Entry) Errorf(format string, args ...any) *Error {
	return &Error{File: e.File, Line: e.Line, Key: e.Key, Msg: sprintf(format, args...)}
}

func (e Entry) warn(format string, args ...any) Warning {
	return Warning{File: e.File, Line: e.Line, Key: e.Key, Msg: sprintf(format, args...)}
}
