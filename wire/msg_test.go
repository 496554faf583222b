package wire

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeKinds(t *testing.T) {
	for _, tc := range []struct {
		line                  string
		req, note, resp, fail bool
	}{
		{line: `{"jsonrpc":"2.0","id":1,"method":"ping"}`, req: true},
		{line: `{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x"}}`, req: true},
		{line: `{"jsonrpc":"2.0","method":"notifications/progress","params":{}}`, note: true},
		{line: `{"jsonrpc":"2.0","id":null,"method":"x"}`, note: true},
		{line: `{"jsonrpc":"2.0","id":3,"result":{}}`, resp: true},
		{line: `{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"m"}}`, resp: true},
		{line: `{"jsonrpc":"2.0","id":3}`, fail: true},
		{line: `{"jsonrpc":"2.0"}`, fail: true},
		{line: `[1,2]`, fail: true},
		{line: `{"id":1,"method":`, fail: true},
	} {
		m, err := Decode([]byte(tc.line))
		if (err != nil) != tc.fail {
			t.Errorf("%s: err %v, want failure %v", tc.line, err, tc.fail)
			continue
		}
		if err == nil && (m.IsRequest() != tc.req || m.IsNotification() != tc.note || m.IsResponse() != tc.resp) {
			t.Errorf("%s: request %v notification %v response %v", tc.line, m.IsRequest(), m.IsNotification(), m.IsResponse())
		}
	}
}

// AppendString writes what encoding/json reads back as the same string
// (invalid UTF-8 as U+FFFD, like encoding/json).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "ctl\x00\x01\x1f\n\r\t", "ünï©ødé ☃", "bad\xffutf8", "<>&\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q → %s: %v", s, b, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if !utf8.ValidString(s) {
			want = string([]rune(s)) // each bad byte → U+FFFD
		}
		if got != want {
			t.Fatalf("%q → %s → %q", s, b, got)
		}
	})
}

func TestAppendRoundTrip(t *testing.T) {
	req := AppendRequest(nil, 7, "tools/call", json.RawMessage(`{"name":"a"}`))
	m, err := Decode(req)
	if err != nil || !m.IsRequest() || string(m.ID) != "7" || string(m.Params) != `{"name":"a"}` {
		t.Fatalf("request %s: %+v %v", req, m, err)
	}
	resp := AppendResult(nil, json.RawMessage(`"x"`), json.RawMessage(`{"ok":true}`))
	if m, err = Decode(resp); err != nil || !m.IsResponse() || string(m.Result) != `{"ok":true}` {
		t.Fatalf("result %s: %+v %v", resp, m, err)
	}
	e := AppendError(nil, nil, &Error{Code: CodeParseError, Message: "bad \"line\"", Data: json.RawMessage(`[1]`)})
	var back struct {
		ID    any
		Error Error
	}
	if err := json.Unmarshal(e, &back); err != nil || back.ID != nil || back.Error.Message != `bad "line"` || string(back.Error.Data) != "[1]" {
		t.Fatalf("error %s: %+v %v", e, back, err)
	}
	note := AppendMessage(nil, &Msg{Method: "notifications/x", Params: json.RawMessage(`{}`)})
	if m, err = Decode(note); err != nil || !m.IsNotification() {
		t.Fatalf("notification %s: %+v %v", note, m, err)
	}
}
