package templates

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// toolFunc is the body of a tool: it gets the call's arguments and returns
// the structured result, or an error whose message becomes the text of a tool
// result with isError set.
type toolFunc func(ctx context.Context, a args) (any, error)

// handle adapts a toolFunc to mcp-go. Every outcome, bad input included, is a
// tool result; the handler never returns a Go error.
func handle(fn toolFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		a, err := parseArgs(req)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		v, err := fn(ctx, a)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		return structuredResult(v), nil
	}
}

// readOnly annotates a tool that changes nothing (so repeating it is
// harmless); openWorld says whether it reaches outside the process.
func readOnly(openWorld bool) mcp.ToolOption {
	return func(t *mcp.Tool) {
		for _, opt := range []mcp.ToolOption{
			mcp.WithReadOnlyHintAnnotation(true),
			mcp.WithDestructiveHintAnnotation(false),
			mcp.WithIdempotentHintAnnotation(true),
			mcp.WithOpenWorldHintAnnotation(openWorld),
		} {
			opt(t)
		}
	}
}

// structuredResult returns v as structuredContent plus the same JSON as
// text: both carry the one encoding, so they cannot drift apart.
func structuredResult(v any) *mcp.CallToolResult {
	text, err := json.Marshal(v)
	if err != nil {
		return mcp.NewToolResultErrorf("encoding result: %v", err)
	}
	return mcp.NewToolResultStructured(json.RawMessage(text), string(text))
}

// args holds a call's arguments as raw JSON, so each tool decodes exactly the
// types it accepts and numbers keep their precision.
type args map[string]json.RawMessage

// parseArgs extracts the arguments of req. Absent or null arguments are an
// empty set; anything but a JSON object is an error.
func parseArgs(req mcp.CallToolRequest) (args, error) {
	raw, err := rawArguments(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errArguments, err)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return args{}, nil
	}
	var a args
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, errArguments
	}
	if a == nil {
		a = args{}
	}
	return a, nil
}

// rawArguments returns the arguments as sent on the wire when mcp-go kept
// them, else re-encodes the decoded ones.
func rawArguments(req mcp.CallToolRequest) (json.RawMessage, error) {
	switch v := req.GetRawArguments().(type) {
	case json.RawMessage:
		return v, nil
	case nil:
		return nil, nil
	default:
		return json.Marshal(v)
	}
}

// present reports whether name was given with a non-null value.
func (a args) present(name string) bool {
	raw, ok := a[name]
	return ok && jsonKind(raw) != "null"
}

// number returns the required number argument name.
func (a args) number(name string) (float64, error) {
	raw, err := a.required(name, "number")
	if err != nil {
		return 0, err
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, fmt.Errorf("%w: argument %q is out of range for a 64-bit float", errArgumentType, name)
	}
	return f, nil
}

// str returns the required string argument name.
func (a args) str(name string) (string, error) {
	raw, err := a.required(name, "string")
	if err != nil {
		return "", err
	}
	var s string
	err = json.Unmarshal(raw, &s)
	return s, err
}

// optStr returns the string argument name, or def when it is absent or null.
func (a args) optStr(name, def string) (string, error) {
	if !a.present(name) {
		return def, nil
	}
	return a.str(name)
}

// value returns the required argument name decoded as any JSON value, null
// included (as nil). Numbers are json.Number.
func (a args) value(name string) (any, error) {
	raw, ok := a[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", errMissingArgument, name)
	}
	return decodeJSON(raw)
}

// required returns the raw argument name, which must be present, non-null
// and of JSON kind want.
func (a args) required(name, want string) (json.RawMessage, error) {
	if !a.present(name) {
		return nil, fmt.Errorf("%w %q", errMissingArgument, name)
	}
	raw := a[name]
	if got := jsonKind(raw); got != want {
		return nil, fmt.Errorf("%w: argument %q must be a %s, got %s", errArgumentType, name, want, got)
	}
	return raw, nil
}

// jsonKind names the JSON type of a syntactically valid raw value: object,
// array, string, number, boolean or null.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "null"
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
	default:
		return "number"
	}
}

// typeName names the JSON type of a value decoded by decodeJSON.
func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	default:
		return "null"
	}
}

// decodeJSON decodes one JSON text into any, numbers as json.Number so that
// integers keep every digit. Malformed input gives an error wrapping
// errInvalidJSON that says where, by line and column.
func decodeJSON(data []byte) (any, error) {
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, jsonError(data, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", errInvalidJSON, err)
	}
	return v, nil
}

// jsonError turns a decoding error into one that locates the problem.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	if !errors.As(err, &syn) {
		return fmt.Errorf("%w: %v", errInvalidJSON, err)
	}
	line, col := position(data, syn.Offset)
	return fmt.Errorf("%w at line %d, column %d (byte offset %d): %v", errInvalidJSON, line, col, syn.Offset, err)
}

// position converts a byte offset into 1-based line and column numbers. The
// decoder reports the offset after the offending byte, so the column points
// at it.
func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = len(before) - bytes.LastIndexByte(before, '\n') - 1
	if col < 1 {
		col = 1
	}
	return line, col
}

// parseJSONString is decodeJSON for text; blank text is reported as empty.
func parseJSONString(s string) (any, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("%w: the input is empty", errInvalidJSON)
	}
	return decodeJSON([]byte(s))
}
