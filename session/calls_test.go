package session

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestReadCallAgreesWithEncodingJSON(t *testing.T) {
	for _, params := range []string{
		`{"name":"calc__add","arguments":{"a":15,"b":27},"_meta":{"progressToken":1}}`,
		`{"arguments":{"a":1},"name":"x"}`,
		`{"name":"caf\u00e9","arguments":null}`,
		`{"name":"a","name":"b"}`,
		`{"Name":"a"}`,
		`{"name":5}`,
		`{"name":null,"arguments":{}}`,
		`{}`,
		`null`,
		`[1]`,
		`"x"`,
		``,
		`{"name":"a","other":{"name":"b"},"_meta":null}`,
	} {
		got, gerr := readCall(json.RawMessage(params))
		var want callParams
		werr := json.Unmarshal([]byte(params), &want)
		if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
			t.Fatalf("%s: error %v, encoding/json %v", params, gerr, werr)
		}
		if gerr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got  %+v\n want %+v", params, got, want)
		}
	}
}

func TestChildMeta(t *testing.T) {
	s := New(Options{})
	for _, c := range []struct{ in, out, client string }{
		{``, ``, ``},
		{`null`, ``, ``},
		{`5`, ``, ``},
		{`{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"x"}}`, ``, ``},
		{`{"io.modelcontextprotocol/protocolVersion":"2026-07-28","progressToken":"tok","trace":{"id":[1,2]}}`,
			`{"progressToken":"metamcp-1","trace":{"id":[1,2]}}`, `"tok"`},
		{`{"a":1,"b":2,"a":3}`, `{"b":2,"a":3}`, ``},
		{`{"progressToken":7}`, `{"progressToken":"metamcp-2"}`, `7`},
	} {
		token, out := s.childMeta(json.RawMessage(c.in))
		if string(out) != c.out {
			t.Fatalf("%s: got %s, want %s", c.in, out, c.out)
		}
		if c.out != "" && !json.Valid(out) {
			t.Fatalf("%s: %s is not JSON", c.in, out)
		}
		if c.client == "" {
			if token != "" {
				t.Fatalf("%s: token %q", c.in, token)
			}
			continue
		}
		if got := string(s.tokens[token]); got != c.client {
			t.Fatalf("%s: token %s maps to %s, want %s", c.in, token, got, c.client)
		}
	}
}
