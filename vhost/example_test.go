package vhost_test

import (
	"fmt"

	"gibbon/config"
	"gibbon/vhost"
)

func ExampleTable_Lookup() {
	tab, err := vhost.New([]config.Host{
		{File: "default", DocumentRoot: "/srv/default"},
		{File: "example", ServerNames: []string{"example.com"}, DocumentRoot: "/srv/example"},
		{File: "wild", ServerNames: []string{"*.example.com"}, DocumentRoot: "/srv/wild"},
	})
	if err != nil {
		panic(err)
	}
	for _, host := range []string{"Example.COM:8080", "www.example.com.", "a.b.example.com", "[::1]:80", "other.org"} {
		fmt.Println(host, "→", tab.Lookup([]byte(host)).DocumentRoot)
	}
	// Output:
	// Example.COM:8080 → /srv/example
	// www.example.com. → /srv/wild
	// a.b.example.com → /srv/wild
	// [::1]:80 → /srv/default
	// other.org → /srv/default
}
