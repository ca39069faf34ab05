package clock

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"
)

func TestDateFormat(t *testing.T) {
	t.Parallel()
	c := New()
	defer c.Stop()
	d := c.Date()
	if len(d) != len(http.TimeFormat) {
		t.Fatalf("Date() = %q, want %d bytes", d, len(http.TimeFormat))
	}
	got, err := http.ParseTime(string(d))
	if err != nil {
		t.Fatalf("Date() = %q: %v", d, err)
	}
	if diff := time.Since(got); diff < -time.Second || diff > 2*time.Second {
		t.Fatalf("Date() = %q is %v away from now", d, diff)
	}
	if cap(d) != len(d) {
		t.Fatalf("Date() cap %d, want %d (appending must not write into the clock)", cap(d), len(d))
	}
}

func TestRefreshEverySecond(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New()
		defer c.Stop()
		start := time.Now()
		if !c.Now().Equal(start) {
			t.Fatalf("Now() = %v, want %v", c.Now(), start)
		}
		first := string(c.Date())
		if want := start.UTC().Format(http.TimeFormat); first != want {
			t.Fatalf("Date() = %q, want %q", first, want)
		}
		for i := 1; i <= 3; i++ {
			time.Sleep(time.Second)
			synctest.Wait()
			want := time.Now().UTC().Format(http.TimeFormat)
			if got := string(c.Date()); got != want {
				t.Fatalf("after %ds: Date() = %q, want %q", i, got, want)
			}
			if got := c.Now(); time.Since(got) >= time.Second || got.After(time.Now()) {
				t.Fatalf("after %ds: Now() = %v, real %v", i, got, time.Now())
			}
		}
	})
}

func TestStop(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New()
		before := string(c.Date())
		c.Stop()
		c.Stop() // idempotent
		time.Sleep(5 * time.Second)
		if got := string(c.Date()); got != before {
			t.Fatalf("Date() changed after Stop: %q → %q", before, got)
		}
	})
}

func TestTwoClocksAreIndependent(t *testing.T) {
	t.Parallel()
	a, b := New(), New()
	a.Stop()
	defer b.Stop()
	if len(b.Date()) == 0 || len(a.Date()) == 0 {
		t.Fatal("empty date")
	}
}

func TestUntilNextSecond(t *testing.T) {
	t.Parallel()
	base := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		now  time.Time
		want time.Duration
	}{
		{"on the second", base, time.Second},
		{"just after", base.Add(time.Millisecond), 999 * time.Millisecond},
		{"just before", base.Add(999 * time.Millisecond), time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := untilNextSecond(tc.now); got != tc.want {
				t.Fatalf("untilNextSecond(%v) = %v, want %v", tc.now, got, tc.want)
			}
		})
	}
}

func BenchmarkDate(b *testing.B) {
	c := New()
	defer c.Stop()
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		dst = append(dst[:0], c.Date()...)
	}
}
