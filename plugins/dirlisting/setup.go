package dirlisting

import (
	"os"
	"path/filepath"
	"strings"

	"gibbon/config"
	"gibbon/stage"
)

func init() { stage.Register("dirlisting", func() stage.Plugin { return new(Dirlisting) }) }

// Decode reads [DIRLISTING] in plugins/dirlisting/dirlisting.conf:
//
//	Theme <name>   themes/<name>/{header,entry,footer}.theme under the plugin directory
//	JSON  on|off   answer ?format=json (default on)
func (d *Dirlisting) Decode(c *stage.PluginConfig) error {
	d.json = true
	for _, sec := range c.Sections {
		if sec.Name != "DIRLISTING" {
			return &config.Error{File: sec.File, Line: sec.Line, Key: "[" + sec.Name + "]", Msg: "unknown section (want [DIRLISTING])"}
		}
		for _, e := range sec.Entries {
			switch {
			case strings.EqualFold(e.Key, "Theme"):
				if strings.ContainsAny(e.Value, `/\`) || e.Value == ".." || e.Value == "." {
					return e.Errorf("a theme is a directory name under themes/")
				}
				d.themeName, d.themeDir, d.themeAt = e.Value, filepath.Join(c.Dir, "themes", e.Value), e
			case strings.EqualFold(e.Key, "JSON"):
				switch strings.ToLower(e.Value) {
				case "on", "true":
					d.json = true
				case "off", "false":
					d.json = false
				default:
					return e.Errorf("want on or off")
				}
			default:
				return stage.UnknownKey(e, "DIRLISTING")
			}
		}
	}
	return nil
}

// Provision loads the theme: the named one, or the built-in default.
func (d *Dirlisting) Provision(ctx *stage.Context) error {
	if d.themeDir == "" {
		d.theme = defaultTheme()
		return nil
	}
	var parts [3]string
	for i, name := range []string{"header.theme", "entry.theme", "footer.theme"} {
		b, err := os.ReadFile(filepath.Join(d.themeDir, name))
		if err != nil {
			return d.themeAt.Errorf("theme %s: %v", d.themeName, err)
		}
		parts[i] = string(b)
	}
	d.theme = &theme{header: compile(parts[0]), entry: compile(parts[1]), footer: compile(parts[2])}
	return nil
}
