package config

import "strings"

// defaultMime is the built-in MIME table. Textual types carry
// "; charset=utf-8" so browsers need not guess; a MIME file is used as
// written.
var defaultMime = map[string]string{
	// text
	"html":        "text/html; charset=utf-8",
	"htm":         "text/html; charset=utf-8",
	"xhtml":       "application/xhtml+xml; charset=utf-8",
	"css":         "text/css; charset=utf-8",
	"js":          "text/javascript; charset=utf-8",
	"mjs":         "text/javascript; charset=utf-8",
	"json":        "application/json",
	"jsonld":      "application/ld+json",
	"map":         "application/json",
	"webmanifest": "application/manifest+json",
	"txt":         "text/plain; charset=utf-8",
	"md":          "text/markdown; charset=utf-8",
	"csv":         "text/csv; charset=utf-8",
	"tsv":         "text/tab-separated-values; charset=utf-8",
	"xml":         "text/xml; charset=utf-8",
	"rss":         "application/rss+xml",
	"atom":        "application/atom+xml",
	"ics":         "text/calendar; charset=utf-8",
	"vtt":         "text/vtt; charset=utf-8",
	"yaml":        "application/yaml",
	"yml":         "application/yaml",
	"toml":        "application/toml",
	// images
	"svg":  "image/svg+xml",
	"png":  "image/png",
	"apng": "image/apng",
	"jpg":  "image/jpeg",
	"jpeg": "image/jpeg",
	"gif":  "image/gif",
	"webp": "image/webp",
	"avif": "image/avif",
	"ico":  "image/x-icon",
	"bmp":  "image/bmp",
	"tif":  "image/tiff",
	"tiff": "image/tiff",
	// fonts
	"woff":  "font/woff",
	"woff2": "font/woff2",
	"ttf":   "font/ttf",
	"otf":   "font/otf",
	"eot":   "application/vnd.ms-fontobject",
	// audio and video
	"mp4":  "video/mp4",
	"m4v":  "video/mp4",
	"webm": "video/webm",
	"ogv":  "video/ogg",
	"mov":  "video/quicktime",
	"mpeg": "video/mpeg",
	"mpg":  "video/mpeg",
	"avi":  "video/x-msvideo",
	"mp3":  "audio/mpeg",
	"m4a":  "audio/mp4",
	"aac":  "audio/aac",
	"ogg":  "audio/ogg",
	"oga":  "audio/ogg",
	"opus": "audio/ogg",
	"flac": "audio/flac",
	"wav":  "audio/wav",
	// documents, archives, binaries
	"pdf":  "application/pdf",
	"zip":  "application/zip",
	"gz":   "application/gzip",
	"tgz":  "application/gzip",
	"tar":  "application/x-tar",
	"bz2":  "application/x-bzip2",
	"xz":   "application/x-xz",
	"zst":  "application/zstd",
	"7z":   "application/x-7z-compressed",
	"wasm": "application/wasm",
	"bin":  "application/octet-stream",
	"exe":  "application/octet-stream",
	"iso":  "application/octet-stream",
}

// DefaultMime returns a fresh copy of the built-in MIME table, used when
// the config directory has no MIME file. Keys are lower-case extensions
// without the dot. Textual types carry "; charset=utf-8".
func DefaultMime() map[string]string {
	m := make(map[string]string, len(defaultMime))
	for k, v := range defaultMime {
		m[k] = v
	}
	return m
}

// decodeMime builds the MIME table from the sections of a MIME file.
func decodeMime(file string, secs []*Section, ws *[]Warning, errs *errorList) map[string]string {
	m := make(map[string]string)
	seen := make(map[string]Entry)
	found := false
	for _, sec := range secs {
		if sec.Name != "MIMETYPES" {
			*ws = append(*ws, Warning{File: sec.File, Line: sec.Line, Key: "[" + sec.Name + "]",
				Msg: "section ignored: a MIME file has only [MIMETYPES]"})
			continue
		}
		found = true
		for _, e := range sec.Entries {
			ext := strings.ToLower(e.Key)
			if strings.ContainsAny(ext, "/\\") || strings.HasPrefix(ext, ".") {
				errs.add(e.File, e.Line, e.Key, "bad extension: want it without the dot, as html")
				continue
			}
			if err := parseMediaType(e.Value); err != nil {
				errs.add(e.File, e.Line, e.Key, "%v", err)
				continue
			}
			if prev, ok := seen[ext]; ok && prev.Value != e.Value {
				*ws = append(*ws, e.warn("extension also set at %s:%d; this line wins", prev.File, prev.Line))
			}
			seen[ext] = e
			m[ext] = e.Value
		}
	}
	if !found {
		errs.add(file, 0, "[MIMETYPES]", "missing section")
	}
	return m
}
