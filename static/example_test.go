package static_test

import (
	"fmt"
	"os"
	"path/filepath"

	"gibbon/http1"
	"gibbon/static"
)

func ExampleCleanPath() {
	for _, raw := range []string{"/a//b/./c/../d%20e", "/docs/", "/../etc/passwd", "/a%2Fb"} {
		clean, status := static.CleanPath([]byte(raw))
		fmt.Printf("%-18s %q %d\n", raw, clean, status)
	}
	// Output:
	// /a//b/./c/../d%20e "/a/b/d e" 0
	// /docs/             "/docs/" 0
	// /../etc/passwd     "" 400
	// /a%2Fb             "" 400
}

func ExampleServe() {
	root, err := os.MkdirTemp("", "static-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	if err := os.WriteFile(filepath.Join(root, "hello.txt"), []byte("hello, world\n"), 0o644); err != nil {
		panic(err)
	}
	opts := &static.Options{Resume: true, Mime: map[string]string{"txt": "text/plain"}}

	res := static.Serve(root, &static.Request{
		Method: http1.MethodGet,
		Path:   []byte("/hello.txt"),
		Range:  []byte("bytes=7-11"),
	}, opts)
	defer res.Close()
	fmt.Println(res.Status, res.ContentType, res.ContentRange, res.ContentLength)
	for _, p := range res.Parts {
		buf := make([]byte, p.Length)
		if _, err := res.File.ReadAt(buf, p.Offset); err != nil {
			panic(err)
		}
		fmt.Printf("%s%s\n", p.Prefix, buf)
	}
	// Output:
	// 206 text/plain bytes 7-11/13 5
	// world
}
