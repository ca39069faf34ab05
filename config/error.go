package config

import (
	"errors"
	"fmt"

	"strconv"
	"strings"
)

// Error is a configuration problem at a place in a file. File is the path
// as the loader opened it; Line is 1-based (0 when the problem concerns the
// whole file, such as a missing file or a missing section); Key is the key,
// the section ("[HOST]") or the directive ("@INCLUDE") concerned, or "" when
// the line could not be split into a key. Msg says what is wrong; Err is the
// underlying cause, if any (for example an *fs.PathError), and is returned by
// Unwrap.
//
// The text of Msg is not API: match errors with [errors.As] and the fields.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
	Err  error
}

// Error formats e as "file:line: key: msg", leaving out the parts that are
// empty (the line when it is 0).
func (e *Error) Error() string {
	return formatPlace(e.File, e.Line, e.Key, e.Msg)
}

// Unwrap returns the underlying cause, or nil.
func (e *Error) Unwrap() error { return e.Err }

// Warning is something accepted but not acted on, such as a Monkey key that
// gibbon does not need or a section that belongs to a plugin. The fields have
// the meaning they have in [Error].
type Warning struct {
	File string
	Line int
	Key  string
	Msg  string
}

// String formats w as "file:line: key: msg", like [Error.Error].
func (w Warning) String() string {
	return formatPlace(w.File, w.Line, w.Key, w.Msg)
}

func formatPlace(file string, line int, key, msg string) string {
	var b strings.Builder
	b.WriteString(file)
	if line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(line))
	}
	if key != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(key)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(msg)
	return b.String()
}

// Errors returns every [*Error] inside err, looking through errors.Join
// trees and wrapping, in order. It returns nil for a nil err.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		switch x := err.(type) {
		case nil:
		case *Error:
			out = append(out, x)
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		default:
			if e := errors.Unwrap(err); e != nil {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// errorList collects errors in order.
type errorList []error

func (l *errorList) add(file string, line int, key, format string, args ...any) {
	*l = append(*l, &Error{File: file, Line: line, Key: key, Msg: sprintf(format, args...)})
}

func (l *errorList) addErr(e *Error) { *l = append(*l, e) }

func (l errorList) join() error { return errors.Join(l...) }

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}
