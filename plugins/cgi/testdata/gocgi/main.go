// Command gocgi is a CGI program for the cgi plugin's tests, written with
// net/http/cgi's child side: it answers JSON describing the request it got.
package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cgi"
	"os"
)

func main() {
	err := cgi.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Go-CGI", "1")
		json.NewEncoder(w).Encode(map[string]any{
			"method":      r.Method,
			"path":        r.URL.Path,
			"query":       r.URL.RawQuery,
			"remote":      r.RemoteAddr,
			"host":        r.Host,
			"body":        string(body),
			"length":      r.ContentLength,
			"agent":       r.UserAgent(),
			"path_info":   os.Getenv("PATH_INFO"),
			"script_name": os.Getenv("SCRIPT_NAME"),
		})
	}))
	if err != nil {
		os.Exit(1)
	}
}
