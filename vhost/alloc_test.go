//go:build !race

package vhost

import "testing"

func TestLookupAllocs(t *testing.T) {
	tab := testTable(t)
	hosts := [][]byte{
		[]byte("example.com"),
		[]byte("WWW.EXAMPLE.COM.:8080"),
		[]byte("a.b.example.com"),
		[]byte("[::1]:8080"),
		[]byte("unknown.test"),
		[]byte("x.y.api.example.com"),
	}
	for _, h := range hosts {
		if n := testing.AllocsPerRun(100, func() { tab.Lookup(h) }); n != 0 {
			t.Errorf("Lookup(%q): %v allocations, want 0", h, n)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	tab := testTable(b)
	host := []byte("a.b.Example.com:8080")
	b.ReportAllocs()
	for b.Loop() {
		tab.Lookup(host)
	}
}
