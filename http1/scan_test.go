package http1

import "testing"

// TestScanners compares the word-at-a-time scanners with the byte tables for
// every byte value at every position of a 20-byte run.
func TestScanners(t *testing.T) {
	t.Parallel()
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 20; pos++ {
			b := make([]byte, 20)
			for i := range b {
				b[i] = 'a'
			}
			b[pos] = byte(c)
			for _, sc := range []struct {
				name  string
				scan  func([]byte, int) int
				table *[256]bool
			}{{"value", scanValue, &valueChar}, {"target", scanTarget, &targetChar}} {
				want := 0
				for want < len(b) && sc.table[b[want]] {
					want++
				}
				for from := 0; from <= want; from++ {
					if got := sc.scan(b, from); got != want {
						t.Fatalf("%s: byte %#x at %d, from %d: got %d, want %d", sc.name, c, pos, from, got, want)
					}
				}
			}
		}
	}
}
