package dirlisting

import "strings"

// tag is a placeholder of a Monkey theme.
type tag uint8

const (
	tagNone        tag = iota
	tagHTMLTitle       // %_html_title_%: the directory path, HTML-escaped
	tagThemePath       // %_theme_path_%: "" (Monkey gave a disk path; gibbon does not reveal it)
	tagTargetTitle     // %_target_title_%: the entry name, HTML-escaped ("/" added for a directory)
	tagTargetURL       // %_target_url_%: the entry name, URL-encoded then HTML-escaped
	tagTargetName      // %_target_name_%: as tagTargetTitle
	tagTargetTime      // %_target_time_%: modification time, "02-Jan-2006 15:04"
	tagTargetSize      // %_target_size_%: size as "512b", "2.0K", "1.5M"; "-" for a directory
)

var tagNames = map[string]tag{
	"%_html_title_%":   tagHTMLTitle,
	"%_theme_path_%":   tagThemePath,
	"%_target_title_%": tagTargetTitle,
	"%_target_url_%":   tagTargetURL,
	"%_target_name_%":  tagTargetName,
	"%_target_time_%":  tagTargetTime,
	"%_target_size_%":  tagTargetSize,
}

// segment is literal text followed by a tag (tagNone at the end).
type segment struct {
	text string
	tag  tag
}

// template is a compiled theme file.
type template []segment

// theme is the three templates of a listing.
type theme struct {
	header, entry, footer template
}

// compile splits a theme file into literal text and known tags. Tags match
// ignoring case, as in Monkey; an unknown %_..._% stays literal.
func compile(s string) template {
	var t template
	var lit strings.Builder
	for len(s) > 0 {
		i := strings.Index(s, "%_")
		if i < 0 {
			lit.WriteString(s)
			break
		}
		lit.WriteString(s[:i])
		s = s[i:]
		end := strings.Index(s[2:], "_%")
		if end >= 0 {
			if tg, ok := tagNames[strings.ToLower(s[:end+4])]; ok {
				t = append(t, segment{lit.String(), tg})
				lit.Reset()
				s = s[end+4:]
				continue
			}
		}
		lit.WriteString("%_")
		s = s[2:]
	}
	return append(t, segment{lit.String(), tagNone})
}

// render appends t to b with values from v.
func (t template) render(b []byte, v func(tag) string) []byte {
	for _, seg := range t {
		b = append(b, seg.text...)
		if seg.tag != tagNone {
			b = append(b, v(seg.tag)...)
		}
	}
	return b
}

func defaultTheme() *theme {
	return &theme{
		header: compile(`<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Index of %_html_title_%</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; }
th, td { padding: .2em 1.5em .2em 0; text-align: left; }
td.size { text-align: right; font-variant-numeric: tabular-nums; }
a { text-decoration: none; } a:hover { text-decoration: underline; }
</style>
</head>
<body>
<h1>Index of %_html_title_%</h1>
<table>
<tr><th>Name</th><th>Last modified</th><th>Size</th></tr>
`),
		entry:  compile(`<tr><td><a href="%_target_url_%" title="%_target_title_%">%_target_name_%</a></td><td>%_target_time_%</td><td class="size">%_target_size_%</td></tr>` + "\n"),
		footer: compile("</table>\n</body>\n</html>\n"),
	}
}
