package templates

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// sampleSize is how many leading items summarize_data returns for an array.
const sampleSize = 3

// parseResult is the result of parse_json.
type parseResult struct {
	Data any    `json:"data" jsonschema:"the parsed value"`
	Type string `json:"type" jsonschema:"enum=object,enum=array,enum=string,enum=number,enum=boolean,enum=null"`
}

// filterResult is the result of filter_data.
type filterResult struct {
	Filtered      []any `json:"filtered" jsonschema:"the matching objects, in their original order"`
	Count         int   `json:"count" jsonschema:"number of matching objects"`
	OriginalCount int   `json:"original_count" jsonschema:"number of items in the input array"`
}

// summary is the result of summarize_data.
type summary struct {
	Type      string                   `json:"type" jsonschema:"JSON type of the data"`
	Count     int                      `json:"count" jsonschema:"items of an array, keys of an object, 1 for a scalar"`
	Sample    []any                    `json:"sample,omitzero" jsonschema:"arrays only: the first 3 items"`
	ItemTypes map[string]int           `json:"item_types,omitzero" jsonschema:"arrays only: how many items have each JSON type"`
	Numeric   *numericStats            `json:"numeric,omitempty" jsonschema:"arrays only: statistics over the items that are numbers"`
	Fields    map[string]*fieldSummary `json:"fields" jsonschema:"per key: over the objects of an array, or the keys of an object"`
}

// fieldSummary describes one key across a set of objects.
type fieldSummary struct {
	Count   int            `json:"count" jsonschema:"how many objects have this key"`
	Types   map[string]int `json:"types" jsonschema:"how many of its values have each JSON type"`
	Numeric *numericStats  `json:"numeric,omitempty" jsonschema:"statistics over its values that are numbers"`
}

// numericStats summarises a set of numbers. While accumulating (add), Mean
// is unset; finish computes it.
type numericStats struct {
	Count int     `json:"count"`
	Sum   float64 `json:"sum"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
}

// newDataProcessorServer builds data_processor: parse_json, filter_data and
// summarize_data. It does no I/O.
func newDataProcessorServer(Options) (*server.MCPServer, error) {
	return newMCPServer(DataProcessor,
		server.ServerTool{Tool: parseJSONTool(), Handler: handle(parseJSON)},
		server.ServerTool{Tool: filterDataTool(), Handler: handle(filterData)},
		server.ServerTool{Tool: summarizeDataTool(), Handler: handle(summarizeData)},
	), nil
}

func parseJSONTool() mcp.Tool {
	return mcp.NewTool("parse_json",
		mcp.WithDescription("Parse a JSON text and return the value with its JSON type. "+
			"Invalid JSON is reported with its line and column. Integers keep all their digits."),
		mcp.WithString("json_string", mcp.Required(), mcp.Description("The JSON text to parse.")),
		mcp.WithOutputSchema[parseResult](),
		readOnly(false),
	)
}

func filterDataTool() mcp.Tool {
	return mcp.NewTool("filter_data",
		mcp.WithDescription("Keep the objects of an array whose field key equals value. Equality is JSON "+
			"equality (numbers by value, so 1 equals 1.0; objects and arrays element by element), except that a "+
			`string holding a JSON number equals that number ("42" equals 42, either way round). `+
			"Items that are not objects, or lack key, never match."),
		mcp.WithAny("data", mcp.Required(),
			mcp.Description("A JSON array of objects, or a string containing one.")),
		mcp.WithString("key", mcp.Required(), mcp.Description("The field to compare.")),
		mcp.WithAny("value", mcp.Required(), mcp.Description("The value to match: any JSON value, null included.")),
		mcp.WithOutputSchema[filterResult](),
		readOnly(false),
	)
}

func summarizeDataTool() mcp.Tool {
	return mcp.NewTool("summarize_data",
		mcp.WithDescription("Summarise JSON data: its type and size; for an array, a sample of the first 3 "+
			"items, the count of each item type and statistics over numeric items; per field (over the objects "+
			"of an array, or the keys of an object) how often it occurs, its value types and count, sum, min, "+
			"max and mean of its numeric values."),
		mcp.WithAny("data", mcp.Required(),
			mcp.Description("Any JSON value. A string is parsed as JSON when it is valid JSON (and must be when it starts with { or [); otherwise it is summarised as a string.")),
		mcp.WithOutputSchema[summary](),
		readOnly(false),
	)
}

// parseJSON parses the json_string argument.
func parseJSON(_ context.Context, in args) (any, error) {
	s, err := in.str("json_string")
	if err != nil {
		return nil, err
	}
	v, err := parseJSONString(s)
	if err != nil {
		return nil, err
	}
	return parseResult{Data: v, Type: typeName(v)}, nil
}

// filterData keeps the objects of data whose key matches value.
func filterData(_ context.Context, in args) (any, error) {
	items, err := arrayArg(in, "data")
	if err != nil {
		return nil, err
	}
	key, err := in.str("key")
	if err != nil {
		return nil, err
	}
	want, err := in.value("value")
	if err != nil {
		return nil, err
	}
	res := filterResult{Filtered: []any{}, OriginalCount: len(items)}
	for _, item := range items {
		obj, ok := item.(map[string]any)
		if !ok {
			continue
		}
		if got, ok := obj[key]; ok && filterMatch(got, want) {
			res.Filtered = append(res.Filtered, item)
		}
	}
	res.Count = len(res.Filtered)
	return res, nil
}

// arrayArg returns argument name as an array, parsing it first when it is a
// string.
func arrayArg(in args, name string) ([]any, error) {
	v, err := in.value(name)
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok {
		if v, err = parseJSONString(s); err != nil {
			return nil, fmt.Errorf("argument %q: %w", name, err)
		}
	}
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("argument %q: %w (got %s)", name, errNotArray, typeName(v))
	}
	return items, nil
}

// filterMatch is jsonEqual, plus a string holding a JSON number equals that
// number.
func filterMatch(got, want any) bool {
	return jsonEqual(got, want) || numericStringEqual(got, want) || numericStringEqual(want, got)
}

// numericStringEqual reports whether s is a string holding a JSON number
// literal equal to the number n.
func numericStringEqual(s, n any) bool {
	str, ok := s.(string)
	num, isNum := n.(json.Number)
	if !ok || !isNum || !isJSONNumber(str) {
		return false
	}
	return numberEqual(json.Number(str), num)
}

// isJSONNumber reports whether s is exactly a JSON number literal (no
// spaces, no hex, no Inf or NaN).
func isJSONNumber(s string) bool {
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return false
	}
	return json.Valid([]byte(s))
}

// jsonEqual reports whether two values produced by decodeJSON are equal.
func jsonEqual(x, y any) bool {
	switch x := x.(type) {
	case json.Number:
		y, ok := y.(json.Number)
		return ok && numberEqual(x, y)
	case map[string]any:
		y, ok := y.(map[string]any)
		return ok && objectEqual(x, y)
	case []any:
		y, ok := y.([]any)
		return ok && arrayEqual(x, y)
	case string, bool, nil:
		return x == y
	default:
		return false
	}
}

func objectEqual(x, y map[string]any) bool {
	if len(x) != len(y) {
		return false
	}
	for k, xv := range x {
		yv, ok := y[k]
		if !ok || !jsonEqual(xv, yv) {
			return false
		}
	}
	return true
}

func arrayEqual(x, y []any) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !jsonEqual(x[i], y[i]) {
			return false
		}
	}
	return true
}

// numberEqual compares JSON numbers by value: integers exactly, whatever
// their size, anything else as 64-bit floats.
func numberEqual(x, y json.Number) bool {
	if x == y {
		return true
	}
	xi, xok := new(big.Int).SetString(string(x), 10)
	yi, yok := new(big.Int).SetString(string(y), 10)
	if xok && yok {
		return xi.Cmp(yi) == 0
	}
	xf, xerr := strconv.ParseFloat(string(x), 64)
	yf, yerr := strconv.ParseFloat(string(y), 64)
	return xerr == nil && yerr == nil && xf == yf
}

// summarizeData describes the data argument.
func summarizeData(_ context.Context, in args) (any, error) {
	v, err := in.value("data")
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok {
		if v, err = jsonInString(s); err != nil {
			return nil, fmt.Errorf("argument %q: %w", "data", err)
		}
	}
	return summarize(v), nil
}

// jsonInString parses s when it is JSON. Text that starts like an object or
// array must parse; other text that does not parse stays a string.
func jsonInString(s string) (any, error) {
	v, err := parseJSONString(s)
	if err == nil {
		return v, nil
	}
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		return nil, err
	}
	return s, nil
}

// summarize builds the summary of one decoded JSON value.
func summarize(v any) summary {
	s := summary{Type: typeName(v), Count: 1, Fields: map[string]*fieldSummary{}}
	switch v := v.(type) {
	case []any:
		summarizeArray(&s, v)
	case map[string]any:
		s.Count = len(v)
		addFields(s.Fields, v)
		finishFields(s.Fields)
	}
	return s
}

// summarizeArray fills s for an array: sample, item types, numeric
// statistics over number items and field summaries over object items.
func summarizeArray(s *summary, items []any) {
	s.Count = len(items)
	s.Sample = append([]any{}, items[:min(sampleSize, len(items))]...)
	s.ItemTypes = map[string]int{}
	var nums numericStats
	for _, item := range items {
		s.ItemTypes[typeName(item)]++
		nums.add(item)
		if obj, ok := item.(map[string]any); ok {
			addFields(s.Fields, obj)
		}
	}
	s.Numeric = nums.finish()
	finishFields(s.Fields)
}

// addFields counts each key of obj into fields.
func addFields(fields map[string]*fieldSummary, obj map[string]any) {
	for k, v := range obj {
		f, ok := fields[k]
		if !ok {
			f = &fieldSummary{Types: map[string]int{}, Numeric: &numericStats{}}
			fields[k] = f
		}
		f.Count++
		f.Types[typeName(v)]++
		f.Numeric.add(v)
	}
}

// finishFields computes means and drops the statistics of fields that had no
// numeric value.
func finishFields(fields map[string]*fieldSummary) {
	for _, f := range fields {
		f.Numeric = f.Numeric.finish()
	}
}

// add counts v when it is a finite number; anything else is ignored.
func (n *numericStats) add(v any) {
	num, ok := v.(json.Number)
	if !ok {
		return
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || math.IsInf(f, 0) {
		return
	}
	if n.Count == 0 || f < n.Min {
		n.Min = f
	}
	if n.Count == 0 || f > n.Max {
		n.Max = f
	}
	n.Count++
	n.Sum += f
}

// finish returns the statistics with the mean set, or nil when no number
// was added.
func (n *numericStats) finish() *numericStats {
	if n == nil || n.Count == 0 {
		return nil
	}
	out := *n
	out.Mean = out.Sum / float64(out.Count)
	return &out
}
