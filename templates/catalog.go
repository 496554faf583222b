package templates

import (
	"fmt"
	"sort"
	"strings"

	"github.com/metamcp/metamcp/config"
)

// Template describes something metamcp can start as a child MCP server: one
// of the built-in Go servers in this package, or a configured command.
type Template struct {
	Name         string            `json:"name"`
	Description  string            `json:"description"`
	Capabilities []string          `json:"capabilities"`
	Builtin      bool              `json:"builtin"`
	Command      string            `json:"command,omitempty"`
	Args         []string          `json:"args,omitempty"`
	Env          map[string]string `json:"-"`
	Cwd          string            `json:"cwd,omitempty"`
	Tools        config.ToolFilter `json:"tools,omitzero"` // configured templates only
}

// Catalog is the immutable set of templates known to one metamcp instance.
// It is safe for concurrent use.
type Catalog struct {
	byName map[string]Template
	names  []string
}

// NewCatalog returns the built-in templates plus the configured ones. A
// configured template may not take a built-in's name.
func NewCatalog(configured []config.Template) (*Catalog, error) {
	c := &Catalog{byName: map[string]Template{}}
	for _, t := range Builtins() {
		c.add(t)
	}
	for _, ct := range configured {
		if _, dup := c.byName[ct.Name]; dup {
			return nil, fmt.Errorf("configured template %q: %w", ct.Name, ErrNameTaken)
		}
		c.add(Template{
			Name: ct.Name, Description: ct.Description, Capabilities: ct.Capabilities,
			Command: ct.Command, Args: ct.Args, Env: ct.Env, Cwd: ct.Cwd, Tools: ct.Tools,
		})
	}
	sort.Strings(c.names)
	return c, nil
}

func (c *Catalog) add(t Template) {
	if t.Capabilities == nil {
		t.Capabilities = []string{}
	}
	c.byName[t.Name] = t
	c.names = append(c.names, t.Name)
}

// Lookup returns the template with this name.
func (c *Catalog) Lookup(name string) (Template, bool) {
	t, ok := c.byName[name]
	return t, ok
}

// Names lists every template name, sorted.
func (c *Catalog) Names() []string { return append([]string(nil), c.names...) }

// All lists every template, sorted by name.
func (c *Catalog) All() []Template {
	out := make([]Template, 0, len(c.names))
	for _, n := range c.names {
		out = append(out, c.byName[n])
	}
	return out
}

// ForCapability returns the template that provides a capability. Built-in
// templates are preferred; among configured ones the first by name wins.
// Matching ignores case and surrounding space.
func (c *Catalog) ForCapability(capability string) (Template, bool) {
	want := strings.ToLower(strings.TrimSpace(capability))
	var found *Template
	for _, n := range c.names {
		t := c.byName[n]
		for _, have := range t.Capabilities {
			if strings.ToLower(have) != want {
				continue
			}
			if t.Builtin {
				return t, true
			}
			if found == nil {
				found = &t
			}
		}
	}
	if found == nil {
		return Template{}, false
	}
	return *found, true
}

// Capabilities lists every capability some template provides, sorted.
func (c *Catalog) Capabilities() []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range c.byName {
		for _, cp := range t.Capabilities {
			if !seen[cp] {
				seen[cp] = true
				out = append(out, cp)
			}
		}
	}
	sort.Strings(out)
	return out
}
