// Command jsonapi is a small JSON API on gibbon's native handlers: a
// key-value store under /items/{key}.
//
//	curl -X PUT -d '"blue"' localhost:8080/items/sky
//	curl localhost:8080/items/sky
//
// It is an example of the library API, not part of it: nothing imports it,
// and its store lives in memory only.
package main
