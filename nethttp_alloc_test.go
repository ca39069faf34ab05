//go:build !race

package gibbon

import (
	"testing"

	"gibbon/stage"
	"gibbon/stage/stagetest"
)

// TestServeHTTPAllocs bounds the allocations of the adapter around a
// hello-world handler: one block for the request, its URL and context,
// its header map, one string for all its strings, and the handler's own
// header value. net/http's server makes 17 for the same exchange.
func TestServeHTTPAllocs(t *testing.T) {
	rt := helloHTTPRoute()
	r := stagetest.NewRequest(nil, "GET", "/hello.txt?x=1", "Host: 127.0.0.1:8080")
	w := stage.NewRecorder()
	n := testing.AllocsPerRun(1000, func() {
		w.Reset()
		if err := rt.ServeGibbon(w, r); err != nil || w.Code != 200 {
			t.Fatal(w.Code, err)
		}
	})
	if n > 4 {
		t.Errorf("%v allocations per request, want at most 4", n)
	}
}
