package templates

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCalculatorOperations(t *testing.T) {
	c := newClient(t, BasicCalculator, Options{})
	for _, tc := range []struct {
		tool string
		a, b float64
		want float64
	}{
		{"add", 2, 3.5, 5.5},
		{"add", -1, 1, 0},
		{"subtract", 10, 4, 6},
		{"subtract", 4, 10, -6},
		{"multiply", 6, 7, 42},
		{"multiply", -2.5, 4, -10},
		{"divide", 1, 4, 0.25},
		{"divide", -9, 3, -3},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			var got calcResult
			ok(t, call(t, c, tc.tool, map[string]any{"a": tc.a, "b": tc.b}), &got)
			want := calcResult{Result: tc.want, Operation: tc.tool, A: tc.a, B: tc.b}
			if got != want {
				t.Errorf("%s(%v, %v) = %+v, want %+v", tc.tool, tc.a, tc.b, got, want)
			}
		})
	}
}

func TestCalculatorResultShape(t *testing.T) {
	c := newClient(t, BasicCalculator, Options{})
	res := call(t, c, "add", map[string]any{"a": 1, "b": 2})
	if got, want := text(t, res), `{"result":3,"operation":"add","a":1,"b":2}`; got != want {
		t.Errorf("text = %s, want %s", got, want)
	}
	m := obj(t, res)
	if len(m) != 4 {
		t.Errorf("structuredContent has keys %v, want result, operation, a, b", m)
	}
}

func TestCalculatorErrors(t *testing.T) {
	c := newClient(t, BasicCalculator, Options{})
	for _, tc := range []struct {
		name string
		tool string
		args any
		want []string
	}{
		{"divide by zero", "divide", map[string]any{"a": 1, "b": 0}, []string{"division by zero"}},
		{"divide by negative zero", "divide", json.RawMessage(`{"a": 1, "b": -0.0}`), []string{"division by zero"}},
		{"missing b", "add", map[string]any{"a": 1}, []string{"missing required argument", `"b"`}},
		{"null a", "add", map[string]any{"a": nil, "b": 1}, []string{"missing required argument", `"a"`}},
		{"no arguments", "multiply", nil, []string{"missing required argument", `"a"`}},
		{"string a", "add", map[string]any{"a": "1", "b": 2}, []string{`"a"`, "must be a number", "got string"}},
		{"bool b", "subtract", map[string]any{"a": 1, "b": true}, []string{`"b"`, "must be a number", "got boolean"}},
		{"array b", "divide", map[string]any{"a": 1, "b": []int{1}}, []string{`"b"`, "got array"}},
		{"overflow", "multiply", map[string]any{"a": 1e308, "b": 10}, []string{"not a finite number"}},
		{"arguments not an object", "add", json.RawMessage(`[1, 2]`), []string{"must be a JSON object"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toolError(t, call(t, c, tc.tool, tc.args), tc.want...)
		})
	}
}

// TestNumberOutOfRange covers what mcp-go rejects before a handler runs: a
// number that does not fit a float64.
func TestNumberOutOfRange(t *testing.T) {
	_, err := args{"a": json.RawMessage(`1e400`)}.number("a")
	if !errors.Is(err, errArgumentType) || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("number(1e400) error = %v, want out of range", err)
	}
}
