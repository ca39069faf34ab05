package stage

import (
	"sort"
	"sync"
)

// The registry is the only global of gibbon: plugin factories by name,
// filled by Register during init and only read afterwards.
var registry = struct {
	mu sync.RWMutex
	m  map[string]func() Plugin
}{m: make(map[string]func() Plugin)}

// Register makes a plugin available under name, the word used in
// plugins.load, in [HANDLERS] rules and as the plugin's directory and
// package name. It is meant to be called from an init function. newFn must
// return a fresh, unconfigured plugin and have no side effects.
//
// Register panics when name is not a lower-case word ([a-z][a-z0-9_]*),
// when newFn is nil, or when name is already registered.
func Register(name string, newFn func() Plugin) {
	if !validName(name) {
		panic("stage: Register: bad plugin name " + `"` + name + `"`)
	}
	if newFn == nil {
		panic("stage: Register: nil factory for " + name)
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if _, dup := registry.m[name]; dup {
		panic("stage: Register: plugin " + name + " registered twice")
	}
	registry.m[name] = newFn
}

// Registered returns the registered plugin names, sorted.
func Registered() []string {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func factory(name string) (func() Plugin, bool) {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	f, ok := registry.m[name]
	return f, ok
}

func validName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
