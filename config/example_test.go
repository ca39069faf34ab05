package config_test

import (
	"fmt"

	"gibbon/config"
)

func ExampleLoad() {
	cfg, err := config.Load("testdata/monkey", "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Server.Listen[0].Addr, cfg.Server.Timeout, cfg.Hosts[0].ServerNames)
	for _, w := range cfg.Warnings {
		fmt.Println(w.Key)
	}
	// Output:
	// :2001 15s [127.0.0.1]
	// TransportLayer
	// FDT
	// OverCapacity
	// FDLimit
}

func ExampleParse() {
	src := "[MANDRIL]\n    IP  10.20.1.0/24\n    URL /private\n"
	secs, _, err := config.Parse("plugins/mandril.conf", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range secs[0].Entries {
		fmt.Printf("%s:%d %s=%q\n", e.File, e.Line, e.Key, e.Value)
	}
	// Output:
	// plugins/mandril.conf:2 IP="10.20.1.0/24"
	// plugins/mandril.conf:3 URL="/private"
}

func ExampleErrors() {
	src := "[SERVER]\n  Listen 2001\n    Workers 2\nTimeout 5\n"
	_, _, err := config.Parse("gibbon.conf", []byte(src))
	for _, e := range config.Errors(err) {
		fmt.Println(e.File, e.Line, e.Key)
	}
	// Output:
	// gibbon.conf 3 Workers
	// gibbon.conf 4 Timeout
}

func ExampleDefault() {
	cfg := config.Default("/srv/www")
	fmt.Println(cfg.Server.Listen[0].Addr, cfg.Hosts[0].DocumentRoot, cfg.Mime["html"])
	// Output:
	// :2001 /srv/www text/html; charset=utf-8
}

func ExampleEntry_Errorf() {
	secs, _, _ := config.Parse("plugins/auth.conf", []byte("[AUTH]\n  Realm\tfoo\n  Bogus 1\n"))
	for _, e := range secs[0].Entries {
		if e.Key != "Realm" {
			fmt.Println(e.Errorf("unknown key in [AUTH]"))
		}
	}
	// Output:
	// plugins/auth.conf:3: Bogus: unknown key in [AUTH]
}
