package templates

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
)

func TestParseJSON(t *testing.T) {
	c := newClient(t, DataProcessor, Options{})
	for _, tc := range []struct {
		input, wantType, wantText string
	}{
		{`{"b": [1, 2], "a": null}`, "object", `{"data":{"a":null,"b":[1,2]},"type":"object"}`},
		{` [1, "x", true] `, "array", `{"data":[1,"x",true],"type":"array"}`},
		{`12345678901234567890`, "number", `{"data":12345678901234567890,"type":"number"}`},
		{`-1.5e3`, "number", `{"data":-1.5e3,"type":"number"}`},
		{`"text"`, "string", `{"data":"text","type":"string"}`},
		{`false`, "boolean", `{"data":false,"type":"boolean"}`},
		{`null`, "null", `{"data":null,"type":"null"}`},
	} {
		t.Run(tc.wantType, func(t *testing.T) {
			res := call(t, c, "parse_json", map[string]any{"json_string": tc.input})
			var got parseResult
			ok(t, res, &got)
			if got.Type != tc.wantType {
				t.Errorf("type = %q, want %q", got.Type, tc.wantType)
			}
			if text(t, res) != tc.wantText {
				t.Errorf("text = %s, want %s", text(t, res), tc.wantText)
			}
		})
	}
}

func TestParseJSONErrors(t *testing.T) {
	c := newClient(t, DataProcessor, Options{})
	for _, tc := range []struct {
		name  string
		input any
		want  []string
	}{
		{"bad value", "{\n  \"a\": 1,\n  \"b\": }", []string{"invalid JSON", "line 3, column 8", "invalid character '}'"}},
		{"trailing data", `{"a": 1} x`, []string{"invalid JSON", "line 1, column 10", "after top-level value"}},
		{"truncated", `{"a": [1, 2`, []string{"invalid JSON", "unexpected end of JSON input"}},
		{"empty", "  ", []string{"invalid JSON", "empty"}},
		{"not a string", map[string]any{"a": 1}, []string{`"json_string"`, "must be a string", "got object"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toolError(t, call(t, c, "parse_json", map[string]any{"json_string": tc.input}), tc.want...)
		})
	}
	toolError(t, call(t, c, "parse_json", map[string]any{}), "missing required argument", `"json_string"`)
}

const people = `[
	{"name": "ann", "age": 42, "city": "Oslo"},
	{"name": "bob", "age": "42"},
	{"name": "cy", "age": 42.0, "tags": ["x"]},
	{"name": "dee", "age": 7, "nick": null},
	{"name": "eve"},
	"not an object",
	{"name": "fay", "age": 12345678901234567890, "tags": ["x"]}
]`

// filterNames runs filter_data and returns the names of the kept objects.
func filterNames(t *testing.T, res filterResult) []string {
	t.Helper()
	var names []string
	for _, item := range res.Filtered {
		names = append(names, item.(map[string]any)["name"].(string))
	}
	return names
}

func TestFilterData(t *testing.T) {
	c := newClient(t, DataProcessor, Options{})
	for _, tc := range []struct {
		name string
		args string
		want []string
	}{
		{"number matches numbers by value and numeric strings", `{"data": ` + people + `, "key": "age", "value": 42}`, []string{"ann", "bob", "cy"}},
		{"numeric string matches numbers", `{"data": ` + people + `, "key": "age", "value": "42"}`, []string{"ann", "bob", "cy"}},
		{"numeric string spelled differently", `{"data": ` + people + `, "key": "age", "value": "4.2e1"}`, []string{"ann", "cy"}},
		{"big integer is exact", `{"data": ` + people + `, "key": "age", "value": 12345678901234567890}`, []string{"fay"}},
		{"big integer neighbour does not match", `{"data": ` + people + `, "key": "age", "value": 12345678901234567891}`, nil},
		{"string", `{"data": ` + people + `, "key": "city", "value": "Oslo"}`, []string{"ann"}},
		{"string is case-sensitive", `{"data": ` + people + `, "key": "city", "value": "oslo"}`, nil},
		{"null matches only a present null", `{"data": ` + people + `, "key": "nick", "value": null}`, []string{"dee"}},
		{"array value", `{"data": ` + people + `, "key": "tags", "value": ["x"]}`, []string{"cy", "fay"}},
		{"non-numeric string does not match a number", `{"data": [{"name": "a", "v": 1}], "key": "v", "value": " 1"}`, nil},
		{"boolean is not a number", `{"data": [{"name": "a", "v": 1}, {"name": "b", "v": true}], "key": "v", "value": true}`, []string{"b"}},
		{"data as a string", `{"data": ` + quote(people) + `, "key": "name", "value": "eve"}`, []string{"eve"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got filterResult
			ok(t, call(t, c, "filter_data", rawArgs(t, tc.args)), &got)
			if names := filterNames(t, got); !slices.Equal(names, tc.want) || got.Count != len(tc.want) {
				t.Errorf("kept %v (count %d), want %v", names, got.Count, tc.want)
			}
		})
	}
}

func TestFilterDataShape(t *testing.T) {
	c := newClient(t, DataProcessor, Options{})
	res := call(t, c, "filter_data", rawArgs(t, `{"data": [{"id": 12345678901234567890}, 3, {"id": 2}], "key": "id", "value": 12345678901234567890}`))
	if got, want := text(t, res), `{"filtered":[{"id":12345678901234567890}],"count":1,"original_count":3}`; got != want {
		t.Errorf("text = %s, want %s", got, want)
	}
	res = call(t, c, "filter_data", map[string]any{"data": []any{}, "key": "id", "value": 1})
	if got, want := text(t, res), `{"filtered":[],"count":0,"original_count":0}`; got != want {
		t.Errorf("text = %s, want %s", got, want)
	}
}

func TestFilterDataErrors(t *testing.T) {
	c := newClient(t, DataProcessor, Options{})
	for _, tc := range []struct {
		name string
		args string
		want []string
	}{
		{"object data", `{"data": {"a": 1}, "key": "a", "value": 1}`, []string{"must be a JSON array", "got object"}},
		{"string holding an object", `{"data": "{\"a\": 1}", "key": "a", "value": 1}`, []string{"must be a JSON array", "got object"}},
		{"string holding bad JSON", `{"data": "[{\"a\": }]", "key": "a", "value": 1}`, []string{`"data"`, "invalid JSON", "line 1, column 8"}},
		{"missing data", `{"key": "a", "value": 1}`, []string{"missing required argument", `"data"`}},
		{"missing key", `{"data": [], "value": 1}`, []string{"missing required argument", `"key"`}},
		{"key not a string", `{"data": [], "key": 1, "value": 1}`, []string{`"key"`, "must be a string"}},
		{"missing value", `{"data": [], "key": "a"}`, []string{"missing required argument", `"value"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toolError(t, call(t, c, "filter_data", rawArgs(t, tc.args)), tc.want...)
		})
	}
}

func TestSummarizeArrayOfObjects(t *testing.T) {
	c := newClient(t, DataProcessor, Options{})
	data := `[
		{"name": "a", "age": 30, "score": 1.5},
		{"name": "b", "age": 40},
		{"name": "c", "age": "n/a", "score": 2.5},
		{"name": "d", "age": -10, "score": -0.25},
		7,
		null
	]`
	var got summary
	ok(t, call(t, c, "summarize_data", rawArgs(t, `{"data": `+data+`}`)), &got)

	if got.Type != "array" || got.Count != 6 || len(got.Sample) != 3 {
		t.Errorf("type %q count %d sample %v, want array, 6, 3 items", got.Type, got.Count, got.Sample)
	}
	wantItemTypes := map[string]int{"object": 4, "number": 1, "null": 1}
	if !maps.Equal(got.ItemTypes, wantItemTypes) {
		t.Errorf("item_types = %v, want %v", got.ItemTypes, wantItemTypes)
	}
	checkStats(t, "numeric", got.Numeric, numericStats{Count: 1, Sum: 7, Min: 7, Max: 7, Mean: 7})

	if len(got.Fields) != 3 {
		t.Errorf("fields = %v, want name, age, score", got.Fields)
	}
	age := got.Fields["age"]
	if age == nil || age.Count != 4 || !maps.Equal(age.Types, map[string]int{"number": 3, "string": 1}) {
		t.Fatalf("fields.age = %+v", age)
	}
	checkStats(t, "age", age.Numeric, numericStats{Count: 3, Sum: 60, Min: -10, Max: 40, Mean: 20})
	score := got.Fields["score"]
	if score == nil || score.Count != 3 {
		t.Fatalf("fields.score = %+v", score)
	}
	checkStats(t, "score", score.Numeric, numericStats{Count: 3, Sum: 3.75, Min: -0.25, Max: 2.5, Mean: 1.25})
	name := got.Fields["name"]
	if name == nil || name.Count != 4 || name.Numeric != nil || !maps.Equal(name.Types, map[string]int{"string": 4}) {
		t.Errorf("fields.name = %+v, want 4 strings and no numeric stats", name)
	}
}

func TestSummarizeShapes(t *testing.T) {
	c := newClient(t, DataProcessor, Options{})
	for _, tc := range []struct {
		name, args, want string
	}{
		{"numbers", `{"data": [1, 2, 3, 4]}`,
			`{"type":"array","count":4,"sample":[1,2,3],"item_types":{"number":4},"numeric":{"count":4,"sum":10,"min":1,"max":4,"mean":2.5},"fields":{}}`},
		{"empty array", `{"data": []}`,
			`{"type":"array","count":0,"sample":[],"item_types":{},"fields":{}}`},
		{"object", `{"data": {"x": 2, "y": "s"}}`,
			`{"type":"object","count":2,"fields":{"x":{"count":1,"types":{"number":1},"numeric":{"count":1,"sum":2,"min":2,"max":2,"mean":2}},"y":{"count":1,"types":{"string":1}}}}`},
		{"scalar", `{"data": true}`, `{"type":"boolean","count":1,"fields":{}}`},
		{"null", `{"data": null}`, `{"type":"null","count":1,"fields":{}}`},
		{"string holding JSON", `{"data": "[{\"v\": 1}, {\"v\": 3}]"}`,
			`{"type":"array","count":2,"sample":[{"v":1},{"v":3}],"item_types":{"object":2},"fields":{"v":{"count":2,"types":{"number":2},"numeric":{"count":2,"sum":4,"min":1,"max":3,"mean":2}}}}`},
		{"plain string", `{"data": "hello"}`, `{"type":"string","count":1,"fields":{}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := call(t, c, "summarize_data", rawArgs(t, tc.args))
			ok(t, res, new(summary))
			if got := text(t, res); got != tc.want {
				t.Errorf("text = %s\nwant   %s", got, tc.want)
			}
		})
	}
}

func TestSummarizeErrors(t *testing.T) {
	c := newClient(t, DataProcessor, Options{})
	toolError(t, call(t, c, "summarize_data", map[string]any{}), "missing required argument", `"data"`)
	toolError(t, call(t, c, "summarize_data", map[string]any{"data": `[1, 2`}), `"data"`, "invalid JSON")
	toolError(t, call(t, c, "summarize_data", map[string]any{"data": `{"a" 1}`}), "invalid JSON", "line 1, column 6")
}

func checkStats(t *testing.T, what string, got *numericStats, want numericStats) {
	t.Helper()
	if got == nil || *got != want {
		t.Errorf("%s stats = %+v, want %+v", what, got, want)
	}
}

// quote returns s as a JSON string literal.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
