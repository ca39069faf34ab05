package gibbon

import (
	"fmt"
	"net/url"
	"strings"
)

// queryValue returns the first value of key in the raw query q, decoded.
func queryValue(q, key string) string {
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(pair, "=")
		if k != key {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			if d, err := url.QueryUnescape(v); err == nil {
				return d
			}
		}
		return v
	}
	return ""
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("gibbon: "+format, args...)
}
