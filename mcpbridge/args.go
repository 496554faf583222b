package mcpbridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

// args reads a tool's arguments from the raw JSON the client sent, with an
// error naming the argument for anything wrong.
type args struct {
	raw map[string]json.RawMessage
}

func parseArgs(req mcp.CallToolRequest, allowed ...string) (*args, error) {
	a := &args{raw: map[string]json.RawMessage{}}
	body := req.Params.RawArguments
	if len(body) == 0 && req.Params.Arguments != nil {
		body, _ = json.Marshal(req.Params.Arguments)
	}
	if len(bytes.TrimSpace(body)) > 0 && string(bytes.TrimSpace(body)) != "null" {
		if err := json.Unmarshal(body, &a.raw); err != nil {
			return nil, fmt.Errorf("arguments must be a JSON object: %v", err)
		}
	}
	var unknown []string
	for k := range a.raw {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		takes := "no arguments"
		if len(allowed) > 0 {
			takes = strings.Join(allowed, ", ")
		}
		return nil, fmt.Errorf("unknown argument %s; this tool takes %s", strings.Join(unknown, ", "), takes)
	}
	return a, nil
}

func (a *args) has(name string) bool {
	v, ok := a.raw[name]
	return ok && string(v) != "null"
}

func (a *args) str(name string, required bool) (string, error) {
	if !a.has(name) {
		if required {
			return "", fmt.Errorf("argument %q is required", name)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(a.raw[name], &s); err != nil {
		return "", fmt.Errorf("argument %q must be a string", name)
	}
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", fmt.Errorf("argument %q must not be empty", name)
	}
	return s, nil
}

func (a *args) boolean(name string, def bool) (bool, error) {
	if !a.has(name) {
		return def, nil
	}
	var b bool
	if err := json.Unmarshal(a.raw[name], &b); err != nil {
		return false, fmt.Errorf("argument %q must be true or false", name)
	}
	return b, nil
}

func (a *args) integer(name string, def, lo, hi int) (int, error) {
	if !a.has(name) {
		return def, nil
	}
	var f float64
	if err := json.Unmarshal(a.raw[name], &f); err != nil || f != float64(int(f)) {
		return 0, fmt.Errorf("argument %q must be a whole number", name)
	}
	if n := int(f); n < lo || n > hi {
		return 0, fmt.Errorf("argument %q must be between %d and %d, got %d", name, lo, hi, n)
	}
	return int(f), nil
}

func (a *args) stringList(name string) ([]string, error) {
	if !a.has(name) {
		return nil, fmt.Errorf("argument %q is required", name)
	}
	var list []string
	if err := json.Unmarshal(a.raw[name], &list); err != nil {
		return nil, fmt.Errorf("argument %q must be an array of strings", name)
	}
	return list, nil
}

// object returns the argument as raw JSON, checking that it is an object.
func (a *args) object(name string) (json.RawMessage, error) {
	if !a.has(name) {
		return nil, nil
	}
	raw := bytes.TrimSpace(a.raw[name])
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("argument %q must be a JSON object", name)
	}
	return raw, nil
}

// decode unmarshals an object argument into v, refusing unknown fields.
func (a *args) decode(name string, v any) error {
	raw, err := a.object(name)
	if err != nil || raw == nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("argument %q: %v", name, strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}
