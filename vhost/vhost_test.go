package vhost

import (
	"strings"
	"testing"

	"gibbon/config"
)

func testTable(t testing.TB) *Table {
	t.Helper()
	tab, err := New([]config.Host{
		{File: "default", ServerNames: []string{"127.0.0.1", "localhost"}, DocumentRoot: "/srv/default"},
		{File: "example", ServerNames: []string{"Example.COM", "www.example.com."}, DocumentRoot: "/srv/example"},
		{File: "wild", ServerNames: []string{"*.example.com"}, DocumentRoot: "/srv/wild"},
		{File: "deep", ServerNames: []string{"*.api.example.com"}, DocumentRoot: "/srv/deep"},
		{File: "exactdeep", ServerNames: []string{"v1.api.example.com"}, DocumentRoot: "/srv/exactdeep"},
		{File: "v6", ServerNames: []string{"[::1]"}, DocumentRoot: "/srv/v6"},
		{File: "org", ServerNames: []string{"*.org"}, DocumentRoot: "/srv/org"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestLookup(t *testing.T) {
	t.Parallel()
	tab := testTable(t)
	tests := []struct {
		host string
		want string // File of the expected host
	}{
		{"", "default"},
		{"127.0.0.1", "default"},
		{"127.0.0.1:2001", "default"},
		{"localhost", "default"},
		{"unknown.test", "default"},
		{"example.com", "example"},
		{"EXAMPLE.com", "example"},
		{"example.com:8080", "example"},
		{"example.com.", "example"},
		{"example.com.:8080", "example"},
		{"www.example.com", "example"},
		{"WWW.Example.Com.", "example"},
		{"a.example.com", "wild"},
		{"a.b.example.com", "wild"},
		{"A.B.EXAMPLE.COM:80", "wild"},
		{"x.api.example.com", "deep"},
		{"x.y.api.example.com", "deep"},
		{"api.example.com", "wild"},
		{"v1.api.example.com", "exactdeep"},
		{"V1.API.example.com.", "exactdeep"},
		{".example.com", "default"},
		{"example.org", "org"},
		{"org", "default"},
		{"notexample.com", "default"},
		{"[::1]", "v6"},
		{"[::1]:8080", "v6"},
		{"[::2]:8080", "default"},
		{"[::1", "default"},
		{"::1", "default"},
		{strings.Repeat("a", 300) + ".example.com", "default"},
		{strings.Repeat("a", 200) + ".example.com", "wild"},
		{"example.com..", "default"},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			t.Parallel()
			got := tab.Lookup([]byte(tc.host))
			if got == nil {
				t.Fatal("Lookup returned nil")
			}
			if got.Config.File != tc.want {
				t.Errorf("Lookup(%q) = %s, want %s", tc.host, got.Config.File, tc.want)
			}
		})
	}
}

func TestDefaultAndHosts(t *testing.T) {
	t.Parallel()
	tab := testTable(t)
	if d := tab.Default(); d.DocumentRoot != "/srv/default" || d != tab.Hosts()[0] {
		t.Errorf("Default() = %+v", d)
	}
	if n := len(tab.Hosts()); n != 7 {
		t.Errorf("len(Hosts()) = %d, want 7", n)
	}
	ex := tab.Lookup([]byte("example.com"))
	if got, want := strings.Join(ex.Names, ","), "example.com,www.example.com"; got != want {
		t.Errorf("Names = %q, want %q", got, want)
	}
}

func TestNewCopiesConfig(t *testing.T) {
	t.Parallel()
	hosts := []config.Host{{File: "default", ServerNames: []string{"a.test"}, DocumentRoot: "/a", Redirect: "http://x/"}}
	tab, err := New(hosts)
	if err != nil {
		t.Fatal(err)
	}
	hosts[0].DocumentRoot = "/changed"
	hosts[0].File = "changed"
	vh := tab.Lookup([]byte("a.test"))
	if vh.DocumentRoot != "/a" || vh.Config.File != "default" || vh.Redirect != "http://x/" {
		t.Errorf("table changed with the caller's slice: %+v", vh)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		hosts []config.Host
	}{
		{"no hosts", nil},
		{"empty name", []config.Host{{File: "d", ServerNames: []string{""}}}},
		{"bare star", []config.Host{{File: "d", ServerNames: []string{"*"}}}},
		{"star without dot", []config.Host{{File: "d", ServerNames: []string{"*example.com"}}}},
		{"star inside", []config.Host{{File: "d", ServerNames: []string{"a.*.com"}}}},
		{"two stars", []config.Host{{File: "d", ServerNames: []string{"*.*.com"}}}},
		{"star dot only", []config.Host{{File: "d", ServerNames: []string{"*."}}}},
		{"slash", []config.Host{{File: "d", ServerNames: []string{"a/b"}}}},
		{"too long", []config.Host{{File: "d", ServerNames: []string{strings.Repeat("a", 256)}}}},
		{"duplicate across hosts", []config.Host{
			{File: "d", ServerNames: []string{"a.test"}},
			{File: "e", ServerNames: []string{"A.test."}},
		}},
		{"duplicate wildcard", []config.Host{
			{File: "d", ServerNames: []string{"*.test"}},
			{File: "e", ServerNames: []string{"*.TEST"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tab, err := New(tc.hosts); err == nil {
				t.Errorf("New succeeded: %+v", tab)
			}
		})
	}
}

func TestNoNames(t *testing.T) {
	t.Parallel()
	tab, err := New([]config.Host{{File: "default"}, {File: "other"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tab.Lookup([]byte("anything")).Config.File; got != "default" {
		t.Errorf("got %s, want default", got)
	}
}
