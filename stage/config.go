package stage

import (
	"strings"

	"gibbon/config"
)

// PluginConfig is what Decode reads: the plugin's own file and the
// sections of the site files and of the server file. It is plain data,
// built by [Load]; Decode must not keep it after returning (the sections
// may be kept).
type PluginConfig struct {
	// Name is the plugin's registered name.
	Name string
	// Dir is the plugin's directory, <config dir>/plugins/<name> (Monkey's
	// layout), for files the plugin reads (themes); "" without a config
	// directory.
	Dir string
	// File is the plugin's own file that was read:
	// <config dir>/plugins/<name>/<name>.conf, else
	// <config dir>/plugins/<name>.conf; "" when neither exists.
	File string
	// Sections are the sections of File, in order.
	Sections []*config.Section
	// Server are the sections of the server file other than [SERVER] (a
	// Monkey server file may hold plugin sections).
	Server []*config.Section
	// Hosts has one entry per virtual host, in config order.
	Hosts []HostConfig
}

// HostConfig is one virtual host's part of a [PluginConfig].
type HostConfig struct {
	VHost *VHost
	// Sections are the host file's sections the core does not use
	// ([AUTH], [LOGGER], ...), in order.
	Sections []*config.Section

	// claimed records the sections a plugin asked for with Find, so that
	// Load can warn about the ones no loaded plugin reads.
	claimed map[*config.Section]bool
}

// Find returns the sections named name (upper-case, without brackets) of
// the plugin's own file, in order.
func (c *PluginConfig) Find(name string) []*config.Section {
	return find(c.Sections, name)
}

// Find returns the host's sections named name, in order; a section may be
// repeated ([AUTH] is, once per protected location).
func (h HostConfig) Find(name string) []*config.Section {
	found := find(h.Sections, name)
	if h.claimed != nil {
		for _, s := range found {
			h.claimed[s] = true
		}
	}
	return found
}

func find(secs []*config.Section, name string) []*config.Section {
	var out []*config.Section
	for _, s := range secs {
		if strings.EqualFold(s.Name, name) {
			out = append(out, s)
		}
	}
	return out
}

// UnknownKey returns the error Decode reports for a key it does not know,
// located at e: "unknown key in [SECTION]".
func UnknownKey(e config.Entry, section string) *config.Error {
	return e.Errorf("unknown key in [%s]", section)
}
