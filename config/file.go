package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// claudeDesktopKeys are top-level keys of Claude Desktop's
// claude_desktop_config.json that carry nothing for metamcp. They are
// ignored when the file has "mcpServers" and unknown keys otherwise.
var claudeDesktopKeys = map[string]bool{
	"globalShortcut":          true,
	"preferences":             true,
	"isDxtAutoUpdatesEnabled": true,
	"dxt":                     true,
	"extensions":              true,
}

// member is one key and its raw value, in file order.
type member struct {
	key   string
	value json.RawMessage
}

// parseFile applies the file's values to c and returns every problem found,
// each prefixed with "config PATH: ". Relative paths resolve against the
// file's directory.
func parseFile(c *Config, path string, data []byte) []error {
	fail := func(err error) error { return fmt.Errorf("config %s: %w", path, err) }
	top, err := topObject(data)
	if err != nil {
		return []error{fail(err)}
	}
	base := filepath.Dir(path)
	hasServers := false
	for _, m := range top {
		hasServers = hasServers || m.key == "mcpServers"
	}

	var errs []error
	var templates, servers []Template
	seen := map[string]bool{}
	for _, m := range top {
		if seen[m.key] {
			errs = append(errs, fail(newProblem(ErrMalformed, "key %q is given twice", m.key)))
			continue
		}
		seen[m.key] = true
		if s, ok := settingFor(m.key); ok {
			v, err := s.fromJSON(m.value)
			if err == nil {
				err = s.apply(c, v, base)
			}
			if err != nil {
				errs = append(errs, fail(fmt.Errorf("%q: %w", m.key, err)))
			}
			continue
		}
		switch {
		case m.key == "templates":
			ts, es := parseTemplates(m.value, base)
			templates = ts
			for _, e := range es {
				errs = append(errs, fail(e))
			}
		case m.key == "mcpServers":
			ts, skipped, es := parseServers(m.value, base)
			servers = ts
			c.Skipped = skipped
			for _, e := range es {
				errs = append(errs, fail(e))
			}
		case hasServers && claudeDesktopKeys[m.key]:
			// Claude Desktop's own settings.
		default:
			errs = append(errs, fail(newProblem(ErrUnknownKey, "unknown key %q", m.key)))
		}
	}

	inTemplates := map[string]bool{}
	for _, t := range templates {
		inTemplates[t.Name] = true
	}
	all := templates
	for _, t := range servers {
		if inTemplates[t.Name] {
			errs = append(errs, fail(newProblem(ErrDuplicateTemplate,
				"template %q is defined in both \"templates\" and \"mcpServers\"", t.Name)))
			continue
		}
		all = append(all, t)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	c.Templates = all
	return errs
}

// parseTemplates reads metamcp's own "templates" map. Entries are strict:
// an unknown key is an error.
func parseTemplates(raw json.RawMessage, base string) ([]Template, []error) {
	entries, err := objectOf(raw)
	if err != nil {
		return nil, []error{fmt.Errorf("%q: %w", "templates", err)}
	}
	var out []Template
	var errs []error
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.key] {
			errs = append(errs, newProblem(ErrDuplicateTemplate, "template %q is defined twice in \"templates\"", e.key))
			continue
		}
		seen[e.key] = true
		t, _, err := parseEntry(e.key, e.value, base, false)
		if err != nil {
			errs = append(errs, fmt.Errorf("template %q: %w", e.key, err))
			continue
		}
		out = append(out, t)
	}
	return out, errs
}

// parseServers reads Claude Desktop's "mcpServers" map. Entries are lenient
// (unknown keys and null values are ignored); "disabled": true and entries
// that would start metamcp itself are skipped, the latter reported in
// skipped.
func parseServers(raw json.RawMessage, base string) (out []Template, skipped []string, errs []error) {
	entries, err := objectOf(raw)
	if err != nil {
		return nil, nil, []error{fmt.Errorf("%q: %w", "mcpServers", err)}
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.key] {
			errs = append(errs, newProblem(ErrDuplicateTemplate, "template %q is defined twice in \"mcpServers\"", e.key))
			continue
		}
		seen[e.key] = true
		t, skip, err := parseEntry(e.key, e.value, base, true)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("mcpServers %q: %w", e.key, err))
		case skip:
			// "disabled": true
		case startsSelf(t):
			skipped = append(skipped, t.Name)
		default:
			out = append(out, t)
		}
	}
	sort.Strings(skipped)
	return out, skipped, errs
}

// parseEntry decodes one template. With claude set it reads a Claude
// Desktop entry: only command, args, env, cwd and disabled are read, other
// keys and null values are ignored, and skip reports "disabled": true (the
// rest of a disabled entry is not checked). A Claude Desktop entry that
// starts metamcp itself is returned unchecked so the caller can skip it.
func parseEntry(name string, raw json.RawMessage, base string, claude bool) (t Template, skip bool, err error) {
	fields, err := objectOf(raw)
	if err != nil {
		return t, false, err
	}
	if claude {
		for _, f := range fields {
			if f.key == "disabled" && jsonKind(f.value) != "null" {
				var disabled bool
				if jsonKind(f.value) != "boolean" || json.Unmarshal(f.value, &disabled) != nil {
					return t, false, badValue("%q: must be true or false, got %s", f.key, show(f.value))
				}
				if disabled {
					return t, true, nil
				}
			}
		}
	}

	t.Name = name
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f.key] {
			return t, false, newProblem(ErrMalformed, "key %q is given twice", f.key)
		}
		seen[f.key] = true
		if claude && jsonKind(f.value) == "null" {
			continue
		}
		var err error
		switch f.key {
		case "command":
			err = decodeString(f.value, &t.Command)
		case "args":
			err = decodeStrings(f.value, &t.Args)
		case "env":
			err = decodeEnv(f.value, &t.Env)
		case "cwd":
			err = decodeString(f.value, &t.Cwd)
		case "capabilities", "description", "tools":
			if claude {
				continue
			}
			err = decodeOwn(f, &t)
		default:
			if claude {
				continue
			}
			return t, false, newProblem(ErrUnknownKey, "unknown key %q", f.key)
		}
		if err != nil {
			return t, false, fmt.Errorf("%q: %w", f.key, err)
		}
	}

	if claude && startsSelf(t) {
		return t, false, nil
	}
	if claude && strings.TrimSpace(t.Command) == "" {
		return t, false, badValue("%q: must not be empty (add \"disabled\": true to skip this entry)", "command")
	}
	if t.Cwd != "" {
		if t.Cwd, err = resolvePath(t.Cwd, base); err != nil {
			return t, false, fmt.Errorf("%q: %w", "cwd", err)
		}
	}
	return t, false, checkTemplate(&t)
}

// decodeOwn decodes a key that only metamcp's own "templates" entries
// have.
func decodeOwn(f member, t *Template) error {
	switch f.key {
	case "description":
		return decodeString(f.value, &t.Description)
	case "capabilities":
		return decodeStrings(f.value, &t.Capabilities)
	}
	return decodeToolFilter(f.value, &t.Tools)
}

// decodeToolFilter reads {"allow": [...], "deny": [...]}, strictly; the
// patterns are checked with the rest of the template (checkTemplate).
func decodeToolFilter(raw json.RawMessage, into *ToolFilter) error {
	fields, err := objectOf(raw)
	if err != nil {
		return err
	}
	lists := map[string]*[]string{"allow": &into.Allow, "deny": &into.Deny}
	seen := map[string]bool{}
	for _, f := range fields {
		dst, known := lists[f.key]
		switch {
		case !known:
			return newProblem(ErrUnknownKey, "unknown key %q", f.key)
		case seen[f.key]:
			return newProblem(ErrMalformed, "key %q is given twice", f.key)
		}
		seen[f.key] = true
		if err := decodeStrings(f.value, dst); err != nil {
			return fmt.Errorf("%q: %w", f.key, err)
		}
	}
	return nil
}

// startsSelf reports whether t would start "metamcp serve": the recursion
// guard for Claude Desktop files that also list metamcp itself.
func startsSelf(t Template) bool {
	cmd := t.Command
	if i := strings.LastIndexAny(cmd, `/\`); i >= 0 {
		cmd = cmd[i+1:]
	}
	self := strings.EqualFold(cmd, "metamcp") || strings.EqualFold(cmd, "metamcp.exe")
	return self && len(t.Args) > 0 && t.Args[0] == "serve"
}

// topObject decodes the whole file as one JSON object. Errors carry the
// line and column of the offending byte.
func topObject(data []byte) ([]member, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF")) // editors on Windows add a BOM
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, newProblem(ErrMalformed, "the file is empty; want a JSON object")
	}
	at := func(off int, format string, args ...any) error {
		line, col := lineCol(data, off)
		return newProblem(ErrMalformed, "line %d, column %d: %s", line, col, fmt.Sprintf(format, args...))
	}
	// Unmarshal checks the whole input first and, unlike the streaming
	// Decoder, always reports the offset just past the offending byte.
	var whole json.RawMessage
	if err := json.Unmarshal(data, &whole); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se) && se.Error() == "unexpected end of JSON input":
			return nil, at(len(data), "unexpected end of file")
		case errors.As(err, &se):
			return nil, at(int(se.Offset)-1, "%s", se.Error())
		}
		return nil, newProblem(ErrMalformed, "%v", err)
	}
	if k := jsonKind(data); k != "object" {
		return nil, at(len(data)-len(bytes.TrimLeft(data, " \t\r\n")), "must be a JSON object, got %s", k)
	}
	members, err := decodeObject(data)
	if err != nil {
		return nil, newProblem(ErrMalformed, "%v", err)
	}
	return members, nil
}

// objectOf decodes a nested value that must be a JSON object.
func objectOf(raw json.RawMessage) ([]member, error) {
	if k := jsonKind(raw); k != "object" {
		return nil, badValue("must be an object, got %s", show(raw))
	}
	members, err := decodeObject(raw)
	if err != nil {
		return nil, badValue("%v", err)
	}
	return members, nil
}

// decodeObject returns the members of data, a valid JSON object, in order
// and with duplicate keys kept.
func decodeObject(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // the opening brace
		return nil, err
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string) // the decoder only yields strings in key position
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, err
		}
		members = append(members, member{key: key, value: value})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	return members, nil
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(data []byte, off int) (line, col int) {
	off = max(0, min(off, len(data)))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = off - bytes.LastIndexByte(before, '\n')
	return line, col
}

// jsonKind names the JSON type of a valid raw value.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// show renders a raw value for an error message: one line, at most 60
// characters.
func show(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		b.Reset()
		b.Write(bytes.TrimSpace(raw))
	}
	if r := []rune(b.String()); len(r) > 60 {
		return string(r[:57]) + "..."
	}
	return b.String()
}

func decodeString(raw json.RawMessage, into *string) error {
	if jsonKind(raw) != "string" || json.Unmarshal(raw, into) != nil {
		return badValue("must be a string, got %s", show(raw))
	}
	return nil
}

func decodeStrings(raw json.RawMessage, into *[]string) error {
	if jsonKind(raw) != "array" || json.Unmarshal(raw, into) != nil {
		return badValue("must be an array of strings, got %s", show(raw))
	}
	return nil
}

func decodeEnv(raw json.RawMessage, into *map[string]string) error {
	if jsonKind(raw) != "object" || json.Unmarshal(raw, into) != nil {
		return badValue("must be an object of strings, got %s", show(raw))
	}
	return nil
}
