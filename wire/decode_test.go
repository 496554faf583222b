package wire

import (
	"encoding/json"
	"reflect"
	"testing"
)

// Messages as they come: a client's tools/call with the _meta of protocol
// 2026-07-28, a child's result, notifications, errors, and odd ones.
var decodeCases = []string{
	`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"calc__add","arguments":{"a":15,"b":27},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"roots":{"listChanged":true}},"io.modelcontextprotocol/clientInfo":{"name":"metamcp-bench","version":"0"}}}}`,
	`{"jsonrpc":"2.0","id":12,"result":{"content":[{"type":"text","text":"{\"result\":42}"}],"structuredContent":{"result":42}}}`,
	`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"metamcp-3","progress":1,"total":2}}`,
	`{"jsonrpc":"2.0","id":"a-b","error":{"code":-32601,"message":"method not found","data":{"x":[1,2,{"y":"}"}]}}}`,
	`{"jsonrpc":"2.0","id":3,"error":null,"result":{}}`,
	`{"id":null,"method":"ping"}`,
	` { "id" : 1 , "method" : "tools/list" , "params" : null } `,
	"{\"id\":1,\"method\":\"t\\u00e9st\\\"\",\"params\":{\"s\":\"a\\\\\\\"b\"}}",
	`{"id":1,"method":"é/ü","params":[1,2,3]}`,
	`{"ID":1,"Method":"ping"}`,
	`{"id":1,"method":"a","method":"b"}`,
	`{"id":1,"id":2,"result":{}}`,
	`{"id":1,"error":{"code":1,"message":"a"},"error":{"code":2}}`,
	`{"id":1,"method":5}`,
	`{"id":1,"method":null,"result":true}`,
	`{"id":1,"error":"oops"}`,
	`{"id":1,"result":"\ud800"}`,
	`{"method":"x\ud800y"}`,
	`{"jsonrpc":"2.0","result":{}}`,
	`{"jsonrpc":"2.0","id":4}`,
	`{}`,
	`[]`,
	`[{"id":1,"method":"ping"}]`,
	`"str"`,
	`{"id":1,"method":"ping"`,
	`{"id":1,"method":"ping"}}`,
	`{"id":1,"method":"ping",}`,
	`{"id":1e3,"method":"ping","params":{"a":-0.5e-7,"b":[true,false,null],"c":{}}}`,
	`{"id":1,"method":"ping","extra":{"deep":[[[{"q":"]}\\"}]]]}}`,
	"{\"id\":1,\"method\":\"a\xffb\"}",
	`{"id":1,"méthod":"ping"}`,
	`{"id":1,"METHOD":"ping","params":{}}`,
}

func TestDecodeAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range decodeCases {
		checkDecode(t, []byte(c))
	}
}

func checkDecode(t *testing.T, line []byte) {
	t.Helper()
	got, gerr := Decode(line)
	want, werr := decodeStd(line)
	if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
		t.Fatalf("%s: error %v, encoding/json %v", line, gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", line, got, want)
	}
}

func TestDecodeCopies(t *testing.T) {
	line := []byte(decodeCases[0])
	m, err := Decode(line)
	if err != nil {
		t.Fatal(err)
	}
	before := string(m.Params)
	for i := range line {
		line[i] = 'x'
	}
	if string(m.Params) != before {
		t.Fatal("Params aliases the line")
	}
}

func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, line []byte) { checkDecode(t, line) })
}

func TestFields(t *testing.T) {
	var got []string
	err := Fields([]byte(` { "a" : 1 , "b\u0022":"x\"}", "c":{"d":[1,{"e":"]"}]},"f":null } `), func(k, v []byte) error {
		got = append(got, string(k)+"="+string(v))
		return nil
	})
	want := []string{`a=1`, `b"="x\"}"`, `c={"d":[1,{"e":"]"}]}`, `f=null`}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	if err := Fields([]byte(`[1]`), func(_, _ []byte) error { return nil }); err != ErrNotObject {
		t.Fatalf("array: %v", err)
	}
	if err := Fields([]byte(`{}`), func(_, _ []byte) error { t.Fatal("called"); return nil }); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, c := range []struct{ name, line string }{{"request-2026", decodeCases[0]}, {"result", decodeCases[1]}} {
		b.Run(c.name+"/wire", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode([]byte(c.line)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/valid-only", func(b *testing.B) {
			for b.Loop() {
				json.Valid([]byte(c.line))
			}
		})
		b.Run(c.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var m Msg
				if err := json.Unmarshal([]byte(c.line), &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func FuzzFields(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, obj []byte) {
		var want map[string]json.RawMessage
		if !json.Valid(obj) || json.Unmarshal(obj, &want) != nil || want == nil {
			return // Fields is given valid JSON objects only
		}
		got := map[string]json.RawMessage{}
		if err := Fields(obj, func(k, v []byte) error {
			got[string(k)] = append(json.RawMessage(nil), v...)
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", obj, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got  %q\n want %q", obj, got, want)
		}
	})
}
