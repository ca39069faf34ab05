package stage_test

import (
	"errors"
	"fmt"
	"testing"

	"gibbon/stage"
)

func TestStrings(t *testing.T) {
	t.Parallel()
	for v, want := range map[fmt.Stringer]string{
		stage.StageAccept: "accept", stage.StageClose: "close", stage.Stage(7): "Stage(7)",
		stage.Continue: "continue", stage.Handled: "handled", stage.Close: "close", stage.Verdict(9): "Verdict(9)",
	} {
		if got := v.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}

func TestHeader(t *testing.T) {
	t.Parallel()
	var h stage.Header
	h.Add("X-A", "1")
	h.Add("x-a", "2")
	h.Set("Y", "3")
	if h.Get("X-A") != "1" || len(h.Values("x-A")) != 2 || h.Len() != 3 {
		t.Errorf("header %v", h.Fields())
	}
	h.Set("x-a", "4")
	h.Del("Y")
	if h.Len() != 1 || h.Get("X-A") != "4" {
		t.Errorf("after Set/Del: %v", h.Fields())
	}
}

func TestEscapePath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/a/b.html":   "/a/b.html",
		"/a b/%?#\\x": "/a%20b/%25%3F%23%5Cx",
		"/é":          "/%C3%A9",
	} {
		if got := stage.EscapePath(in); got != want {
			t.Errorf("EscapePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	he := stage.Error(404, errors.New("gone"))
	for err, want := range map[error]int{nil: 0, errors.New("x"): 500, he: 404,
		fmt.Errorf("wrapped: %w", he): 404, stage.Error(200, nil): 500} {
		if got := stage.StatusOf(err); got != want {
			t.Errorf("StatusOf(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestRegisterPanics(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "Bad", "rec_a", "a-b"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", name)
				}
			}()
			stage.Register(name, func() stage.Plugin { return nil })
		}()
	}
}

func TestRecorderStandard(t *testing.T) {
	t.Parallel()
	w := stage.NewRecorder()
	w.Respond(403, "", nil)
	w.Respond(200, "text/plain", []byte("x")) // second WriteHeader ignored
	if w.Code != 403 || !w.Standard || !w.Written() {
		t.Errorf("recorder %+v", w)
	}
}
