package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"sort"
	"strconv"
	"strings"
)

// MaxName is the longest tool or prompt name clients accept.
const MaxName = 64

// Separator joins a server's name to a tool's or prompt's.
const Separator = "__"

// suffixLen is the length of a hash suffix: "_" and 8 hex digits.
const suffixLen = 9

// Sanitize makes s a valid name: every character (rune, not byte) outside
// a-z A-Z 0-9 _ - becomes '_', and "" becomes "_". It returns s itself when
// there is nothing to change.
func Sanitize(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if nameRune(r) {
			return r
		}
		return '_'
	}, s)
}

func nameRune(r rune) bool {
	return r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

// Ref is one tool or prompt of one server, as the child names it.
type Ref struct {
	ServerID string // tells servers of the same name apart
	Server   string // the server's name, else its template's
	Name     string // the tool's or prompt's name, as the child lists it
}

// refKey is what identifies a Ref: the server's name is only decoration.
type refKey struct{ id, name string }

func (r Ref) key() refKey { return refKey{r.ServerID, r.Name} }

// AssignNames names each ref as a client sees it; out[i] is refs[i]'s name.
// A ref is "<server>__<name>", both sanitized. A name that would be longer
// than MaxName, or that is reserved or taken already, is cut and ends in
// "_" and 8 hex digits of sha256(server id, 0, name). The result does not
// depend on the order of refs: they are taken sorted by (server, server id,
// name), names that needed no sanitizing and fit first. A ref given twice
// gets one name.
func AssignNames(refs []Ref, reserved map[string]bool) []string {
	var claims []claim
	index := map[refKey]int{}
	for _, i := range sortedRefs(refs) {
		r := refs[i]
		if _, dup := index[r.key()]; !dup {
			index[r.key()] = len(claims)
			claims = append(claims, refClaim(r))
		}
	}
	names := assign(claims, maps.Clone(reserved))
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = names[index[r.key()]]
	}
	return out
}

func sortedRefs(refs []Ref) []int {
	order := make([]int, len(refs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		x, y := refs[order[a]], refs[order[b]]
		if x.Server != y.Server {
			return x.Server < y.Server
		}
		if x.ServerID != y.ServerID {
			return x.ServerID < y.ServerID
		}
		return x.Name < y.Name
	})
	return order
}

func refClaim(r Ref) claim {
	server, name := Sanitize(r.Server), Sanitize(r.Name)
	return claim{
		plain: server + Separator + name,
		exact: server == r.Server && name == r.Name,
		key:   r.ServerID + "\x00" + r.Name,
	}
}

// claim is a name asked for: its plain form and what its hash suffix is
// made of.
type claim struct {
	plain string // valid characters only, maybe too long
	exact bool   // plain is exactly what the child said
	key   string // hashed into the suffix
}

// assign names claims, taken in order: exact plain forms that fit and are
// free first, then the others' plain forms that fit and are free, then
// hashed forms. taken holds the names already out (it is added to).
func assign(claims []claim, taken map[string]bool) []string {
	if taken == nil {
		taken = map[string]bool{}
	}
	out := make([]string, len(claims))
	for pass := range 2 {
		for i, c := range claims {
			if out[i] == "" && (c.exact || pass == 1) && len(c.plain) <= MaxName && !taken[c.plain] {
				out[i], taken[c.plain] = c.plain, true
			}
		}
	}
	for i, c := range claims {
		if out[i] == "" {
			out[i] = hashed(c, taken)
		}
	}
	return out
}

// hashed is c's plain form cut to fit, with a hash suffix. Should that be
// taken too (a child may name a tool like a hashed name), the hash is
// taken again over key, 0 and 1, then 2, and so on.
func hashed(c claim, taken map[string]bool) string {
	prefix := c.plain[:min(len(c.plain), MaxName-suffixLen)]
	for n := 0; ; n++ {
		key := c.key
		if n > 0 {
			key += "\x00" + strconv.Itoa(n)
		}
		sum := sha256.Sum256([]byte(key))
		name := prefix + "_" + hex.EncodeToString(sum[:4])
		if !taken[name] {
			taken[name] = true
			return name
		}
	}
}

// Table maps the names of a set of refs (the tools, or the prompts, of
// every listed server) both ways. Read-only once built; safe for
// concurrent use.
type Table struct {
	refs  map[string]Ref
	names map[refKey]string
}

// NewTable names refs as AssignNames does and indexes them.
func NewTable(refs []Ref, reserved map[string]bool) *Table {
	names := AssignNames(refs, reserved)
	t := &Table{refs: make(map[string]Ref, len(refs)), names: make(map[refKey]string, len(refs))}
	for i, r := range refs {
		if _, dup := t.names[r.key()]; !dup {
			t.refs[names[i]], t.names[r.key()] = r, names[i]
		}
	}
	return t
}

// Lookup returns the ref a client's name stands for.
func (t *Table) Lookup(exposed string) (Ref, bool) {
	r, ok := t.refs[exposed]
	return r, ok
}

// Exposed returns the name a ref is listed under; only ServerID and Name
// of r are read.
func (t *Table) Exposed(r Ref) (string, bool) {
	name, ok := t.names[r.key()]
	return name, ok
}

// Len is the number of names in the table.
func (t *Table) Len() int { return len(t.refs) }
