package templates

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testCtx returns a context that ends with the test, bounded so a hung call
// fails the test instead of the run.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newClient builds the template's server and returns an initialised
// in-process client for it.
func newClient(t *testing.T, name string, opts Options) *client.Client {
	t.Helper()
	srv, err := NewServer(name, opts)
	if err != nil {
		t.Fatalf("NewServer(%q): %v", name, err)
	}
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := testCtx(t)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "templates-test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return c
}

// call invokes a tool and fails the test on a protocol-level error.
func call(t *testing.T, c *client.Client, tool string, arguments any) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = arguments
	res, err := c.CallTool(testCtx(t), req)
	if err != nil {
		t.Fatalf("%s: protocol error: %v", tool, err)
	}
	return res
}

// text returns the text of the result's single text content.
func text(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("want 1 content, got %d: %#v", len(res.Content), res.Content)
	}
	tc, ok := mcp.AsTextContent(res.Content[0])
	if !ok {
		t.Fatalf("content is %T, not text", res.Content[0])
	}
	return tc.Text
}

// ok asserts a successful result whose text is the same JSON as its
// structuredContent, and decodes that JSON into out (numbers as json.Number).
func ok(t *testing.T, res *mcp.CallToolResult, out any) {
	t.Helper()
	if res.IsError {
		t.Fatalf("unexpected tool error: %s", text(t, res))
	}
	if res.StructuredContent == nil {
		t.Fatal("no structuredContent")
	}
	structured := []byte(res.RawStructuredContent)
	if len(structured) == 0 {
		t.Fatal("no raw structuredContent: the client did not decode a wire message")
	}
	var fromText, fromStructured any
	mustDecode(t, []byte(text(t, res)), &fromText)
	mustDecode(t, structured, &fromStructured)
	a, _ := json.Marshal(fromText)
	b, _ := json.Marshal(fromStructured)
	if !bytes.Equal(a, b) {
		t.Fatalf("text and structuredContent differ:\ntext:       %s\nstructured: %s", a, b)
	}
	mustDecode(t, structured, out)
}

// obj is ok decoding into a generic object.
func obj(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	var m map[string]any
	ok(t, res, &m)
	return m
}

func mustDecode(t *testing.T, data []byte, out any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
}

// toolError asserts an isError result whose text contains every one of want.
func toolError(t *testing.T, res *mcp.CallToolResult, want ...string) {
	t.Helper()
	msg := text(t, res)
	if !res.IsError {
		t.Fatalf("want a tool error, got success: %s", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
}

// rawArgs turns a JSON text into call arguments, for inputs Go literals
// cannot express precisely (big integers, exact number spellings).
func rawArgs(t *testing.T, s string) json.RawMessage {
	t.Helper()
	if !json.Valid([]byte(s)) {
		t.Fatalf("invalid test JSON: %s", s)
	}
	return json.RawMessage(s)
}

// num asserts v is a JSON number equal to want.
func num(t *testing.T, what string, v any, want float64) {
	t.Helper()
	n, isNum := v.(json.Number)
	if !isNum {
		t.Fatalf("%s: want number %v, got %T %v", what, want, v, v)
	}
	f, err := n.Float64()
	if err != nil || f != want {
		t.Errorf("%s = %s, want %v", what, n, want)
	}
}
