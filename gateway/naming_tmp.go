package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// Sanitize (interim; replaced by the naming helper's version).
func Sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

type ToolRef struct{ ServerID, Server, Tool string }

type ToolTable struct {
	refs    []ToolRef
	exposed map[ToolRef]string
	back    map[string]ToolRef
}

func NewToolTable(refs []ToolRef, reserved map[string]bool) *ToolTable {
	t := &ToolTable{exposed: map[ToolRef]string{}, back: map[string]ToolRef{}}
	t.refs = append([]ToolRef(nil), refs...)
	sort.Slice(t.refs, func(i, j int) bool {
		a, b := t.refs[i], t.refs[j]
		if a.Server != b.Server {
			return a.Server < b.Server
		}
		if a.ServerID != b.ServerID {
			return a.ServerID < b.ServerID
		}
		return a.Tool < b.Tool
	})
	for _, r := range t.refs {
		name := Sanitize(r.Server) + "__" + Sanitize(r.Tool)
		if len(name) > 64 || reserved[name] || t.back[name] != (ToolRef{}) {
			h := sha256.Sum256([]byte(r.ServerID + "\x00" + r.Tool))
			suffix := "_" + hex.EncodeToString(h[:4])
			name = name[:min(len(name), 64-len(suffix))] + suffix
		}
		t.exposed[r], t.back[name] = name, r
	}
	return t
}

func (t *ToolTable) Refs() []ToolRef                    { return t.refs }
func (t *ToolTable) Exposed(r ToolRef) string           { return t.exposed[r] }
func (t *ToolTable) Lookup(name string) (ToolRef, bool) { r, ok := t.back[name]; return r, ok }

// ExposeURI (interim): <server>+<uri>.
func ExposeURI(server, uri string) string { return Sanitize(server) + "+" + uri }

// ResolveURI (interim) undoes ExposeURI.
func ResolveURI(exposed string) (server, uri string, ok bool) {
	server, uri, ok = strings.Cut(exposed, "+")
	return server, uri, ok && server != ""
}
