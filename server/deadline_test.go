package server

import (
	"testing"
	"time"
)

// TestExtend: a deadline is kept while it fires between d and d+d/8 from
// now, and a new one fires at the end of that window.
func TestExtend(t *testing.T) {
	now := time.Now()
	const d = 8 * time.Second
	for _, tc := range []struct {
		name  string
		dl    time.Time
		moved bool
	}{
		{"none", time.Time{}, true},
		{"in the past", now.Add(-time.Second), true},
		{"too early", now.Add(d - time.Millisecond), true},
		{"at the window's start", now.Add(d), false},
		{"inside", now.Add(d + d/16), false},
		{"at the window's end", now.Add(d + d/8), false},
		{"too late", now.Add(d + d/8 + time.Millisecond), true},
	} {
		dl, moved := extend(tc.dl, now, d)
		if moved != tc.moved {
			t.Errorf("%s: moved %v, want %v", tc.name, moved, tc.moved)
		}
		want := tc.dl
		if tc.moved {
			want = now.Add(d + d/8)
		}
		if !dl.Equal(want) {
			t.Errorf("%s: deadline %v after now, want %v", tc.name, dl.Sub(now), want.Sub(now))
		}
	}
}
