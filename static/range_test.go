package static

import "testing"

func TestCoalesce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []span
		want []span
	}{
		{"disjoint kept in order", []span{{10, 12}, {0, 1}}, []span{{10, 12}, {0, 1}}},
		{"overlap", []span{{0, 5}, {3, 9}}, []span{{0, 9}}},
		{"adjacent", []span{{5, 9}, {0, 4}}, []span{{0, 9}}},
		{"gap of one kept", []span{{0, 4}, {6, 9}}, []span{{0, 4}, {6, 9}}},
		{"bridge", []span{{0, 1}, {5, 6}, {2, 4}}, []span{{0, 6}}},
		{"bridge later", []span{{20, 21}, {0, 1}, {5, 6}, {1, 5}}, []span{{20, 21}, {0, 6}}},
		{"contained", []span{{0, 9}, {2, 3}, {4, 4}}, []span{{0, 9}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := append([]span(nil), tc.in...)
			got := s[:coalesce(s)]
			if len(got) != len(tc.want) {
				t.Fatalf("coalesce(%v) = %v, want %v", tc.in, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("coalesce(%v) = %v, want %v", tc.in, got, tc.want)
				}
			}
		})
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-5", "bytes=5-", "bytes=0-1,3-4,-2", "bytes=9-1", "bytes= ,1-1", "x=1-2"} {
		f.Add([]byte(s), int64(62))
	}
	f.Fuzz(func(t *testing.T, v []byte, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		var spans [MaxRanges]span
		n, ok := parseRange(v, size, &spans)
		if !ok && n != 0 {
			t.Fatalf("parseRange(%q) = %d, false", v, n)
		}
		if n < 0 || n > MaxRanges {
			t.Fatalf("parseRange(%q) = %d spans", v, n)
		}
		for _, s := range spans[:n] {
			if s.first < 0 || s.first > s.last || s.last >= size {
				t.Fatalf("parseRange(%q, %d): bad span %v", v, size, s)
			}
		}
		m := coalesce(spans[:n])
		for i := range m {
			for j := i + 1; j < m; j++ {
				a, b := spans[i], spans[j]
				if b.first <= a.last+1 && a.first <= b.last+1 {
					t.Fatalf("coalesce left touching spans %v %v", a, b)
				}
			}
		}
	})
}
