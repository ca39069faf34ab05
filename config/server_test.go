package config

import (
	"reflect"
	"testing"
	"time"
)

// decodeServerText parses text as a server file and decodes its [SERVER]
// sections.
func decodeServerText(t *testing.T, text string) (Server, []Warning, error) {
	t.Helper()
	secs, ws, err := parseWith(mapFS{}, "s.conf", []byte(text))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var errs errorList
	s := decodeServer(secs, &ws, &errs)
	return s, ws, errs.join()
}

func TestServerKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line  string
		check func(s Server) bool // nil: an error at line 2 naming the key is expected
		warn  bool
	}{
		{"Listen 80", func(s Server) bool { return reflect.DeepEqual(s.Listen, []Listen{{Addr: ":80"}}) }, false},
		{"Listen 0", func(s Server) bool { return s.Listen[0].Addr == ":0" }, false},
		{"Listen 0.0.0.0:8080", func(s Server) bool { return s.Listen[0].Addr == "0.0.0.0:8080" }, false},
		{"Listen localhost:8080 TLS H2", func(s Server) bool {
			return reflect.DeepEqual(s.Listen, []Listen{{Addr: "localhost:8080", Flags: []string{"tls", "h2"}}}) && s.Listen[0].Has("tls")
		}, false},
		{"Listen [::1]:2001 h2c h2c", func(s Server) bool {
			return reflect.DeepEqual(s.Listen, []Listen{{Addr: "[::1]:2001", Flags: []string{"h2c"}}})
		}, false},
		{"Listen [fe80::1%eth0]:80", func(s Server) bool { return s.Listen[0].Addr == "[fe80::1%eth0]:80" }, false},
		{"Listen 080", func(s Server) bool { return s.Listen[0].Addr == ":80" }, false},
		{"Listen 65536", nil, false},
		{"Listen -1", nil, false},
		{"Listen http", nil, false},
		{"Listen ::1:80", nil, false},
		{"Listen [::1]80", nil, false},
		{"Listen [::1", nil, false},
		{"Listen [1.2.3.4]:80", nil, false},
		{"Listen :80", func(s Server) bool { return s.Listen[0].Addr == ":80" }, false},
		{"Listen 1.2.3.4:", nil, false},
		{"Listen bad_host!:80", nil, false},
		{"Listen 80 quic", nil, false},
		{"Listen 80 h2", nil, false},
		{"Listen 80 tls h2c", nil, false},
		{"Listen 80 tls", func(s Server) bool { return s.Listen[0].Has("tls") && !s.Listen[0].Has("h2") }, false},
		{"Workers 4", func(s Server) bool { return s.Workers == 4 }, false},
		{"Workers 0", func(s Server) bool { return s.Workers == 0 }, false},
		{"Workers -1", nil, false},
		{"Workers +1", nil, false},
		{"Workers four", nil, false},
		{"Workers 99999999999999999999999", nil, false},
		{"Timeout 1", func(s Server) bool { return s.Timeout == time.Second }, false},
		{"Timeout 0", nil, false},
		{"Timeout 15s", nil, false},
		{"Timeout 9223372036854775807", nil, false},
		{"KeepAlive off", func(s Server) bool { return !s.KeepAlive }, false},
		{"KeepAlive FALSE", func(s Server) bool { return !s.KeepAlive }, false},
		{"KeepAlive yes", nil, false},
		{"KeepAliveTimeout 75", func(s Server) bool { return s.KeepAliveTimeout == 75*time.Second }, false},
		{"KeepAliveTimeout 0", nil, false},
		{"MaxKeepAliveRequest 1", func(s Server) bool { return s.MaxKeepAliveRequest == 1 }, false},
		{"MaxKeepAliveRequest 0", nil, false},
		{"MaxRequestSize 1", func(s Server) bool { return s.MaxRequestSize == 1024 }, false},
		{"MaxRequestSize 0", nil, false},
		{"MaxRequestSize 32KB", nil, false},
		{"Indexfile index.php", func(s Server) bool { return reflect.DeepEqual(s.IndexFiles, []string{"index.php"}) }, false},
		{"Indexfile a/index.html", nil, false},
		{"Indexfile ..", nil, false},
		{"HideVersion On", func(s Server) bool { return s.HideVersion }, false},
		{"HideVersion 1", nil, false},
		{"Resume off", func(s Server) bool { return !s.Resume }, false},
		{"SymLink on", func(s Server) bool { return s.SymLink }, false},
		{"DefaultMimeType application/octet-stream", func(s Server) bool { return s.DefaultMimeType == "application/octet-stream" }, false},
		{"DefaultMimeType text/plain; charset=utf-8", func(s Server) bool { return s.DefaultMimeType == "text/plain; charset=utf-8" }, false},
		{"DefaultMimeType plain", nil, false},
		{"User www-data", func(s Server) bool { return s.User == "www-data" }, false},
		{"User www data", nil, false},
		{"PidFile /run/gibbon.pid", func(s Server) bool { return s.PidFile == "/run/gibbon.pid" }, false},
		{"UserDir public_html", func(s Server) bool { return s.UserDir == "public_html" }, false},
		{"UserDir /home", nil, false},
		{"UserDir ../x", nil, false},
		{"Balancing REUSEPORT", func(s Server) bool { return s.Balancing == "reuseport" }, false},
		{"Balancing fair", func(s Server) bool { return s.Balancing == "fair" }, false},
		{"Balancing random", nil, false},
		{"WorkerCapacity 100", func(s Server) bool { return s.WorkerCapacity == 100 }, false},
		{"WorkerCapacity -5", nil, false},
		{"Admin unix:/run/gibbon.sock", func(s Server) bool { return s.Admin == "unix:/run/gibbon.sock" }, false},
		{"Admin 127.0.0.1:2019", func(s Server) bool { return s.Admin == "127.0.0.1:2019" }, false},
		{"Admin [::1]:2019", func(s Server) bool { return s.Admin == "[::1]:2019" }, false},
		{"Admin localhost:2019", func(s Server) bool { return s.Admin == "localhost:2019" }, false},
		{"Admin :2019", nil, false},
		{"Admin 0.0.0.0:2019", nil, false},
		{"Admin 192.168.1.2:2019", nil, false},
		{"Admin example.org:2019", nil, false},
		{"Admin 127.0.0.1:99999", nil, false},
		{"Admin unix:", nil, false},
		{"Admin /run/gibbon.sock", nil, false},
		{"TransportLayer liana", func(s Server) bool { return reflect.DeepEqual(s, withListen(DefaultServer(), ":1")) }, true},
		{"fdt on", func(s Server) bool { return true }, true},
		{"OverCapacity Resist", func(s Server) bool { return true }, true},
		{"FDLimit 4096", func(s Server) bool { return true }, true},
		{"Listne 80", nil, false},
		{"Port 80", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			t.Parallel()
			text := "[SERVER]\n  " + tc.line + "\n"
			if tc.line[:6] != "Listen" {
				text += "  Listen 1\n"
			}
			s, ws, err := decodeServerText(t, text)
			key, _ := splitKeyValue(tc.line)
			if tc.check == nil {
				want := []place{{"s.conf", 2, key}}
				if got := errorPlaces(t, err); !samePlaces(got, want) {
					t.Fatalf("errors at %+v, want %+v (%v)", got, want, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !tc.check(s) {
				t.Errorf("decoded %+v", s)
			}
			var want []place
			if tc.warn {
				want = []place{{"s.conf", 2, key}}
			}
			if got := warningPlaces(ws); !samePlaces(got, want) {
				t.Errorf("warnings at %+v, want %+v", got, want)
			}
		})
	}
}

func withListen(s Server, addr string) Server {
	s.Listen = []Listen{{Addr: addr}}
	return s
}

func TestServerListenDefaults(t *testing.T) {
	t.Parallel()
	// No Listen: the default address, with a warning on the section.
	s, ws, err := decodeServerText(t, "[SERVER]\n  Workers 1\n")
	if err != nil || len(s.Listen) != 1 || s.Listen[0].Addr != DefaultListen {
		t.Fatalf("got %+v, %v", s.Listen, err)
	}
	if got, want := warningPlaces(ws), []place{{"s.conf", 1, "Listen"}}; !samePlaces(got, want) {
		t.Errorf("warnings at %+v, want %+v", got, want)
	}
	// A repeated address is skipped with a warning; sections merge.
	s, ws, err = decodeServerText(t, "[SERVER]\n  Listen 80\n[server]\n  Listen 80\n  Listen 81\n")
	if err != nil || !reflect.DeepEqual(s.Listen, []Listen{{Addr: ":80"}, {Addr: ":81"}}) {
		t.Fatalf("got %+v, %v", s.Listen, err)
	}
	if got, want := warningPlaces(ws), []place{{"s.conf", 4, "Listen"}}; !samePlaces(got, want) {
		t.Errorf("warnings at %+v, want %+v", got, want)
	}
}

func TestDefaultServer(t *testing.T) {
	t.Parallel()
	s := DefaultServer()
	want := Server{
		Listen:              []Listen{{Addr: ":2001"}},
		Workers:             0,
		Timeout:             15 * time.Second,
		KeepAlive:           true,
		KeepAliveTimeout:    5 * time.Second,
		MaxKeepAliveRequest: 1000,
		MaxRequestSize:      32 * 1024,
		IndexFiles:          []string{"index.html", "index.htm"},
		HideVersion:         false,
		Resume:              true,
		SymLink:             false,
		DefaultMimeType:     "text/plain",
		WorkerCapacity:      0,
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("DefaultServer() = %+v, want %+v", s, want)
	}
	// Every key documented in serverKeys round-trips its default.
	for _, k := range serverKeys {
		if k.name == "Listen" || k.show(&s) == "" {
			continue
		}
		got := DefaultServer()
		if _, err := k.set(&got, k.show(&s)); err != nil || !reflect.DeepEqual(got, s) {
			t.Errorf("%s: setting the shown default %q gives %+v, %v", k.name, k.show(&s), got, err)
		}
	}
}
