package templates

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// wantTools is the tool list of each built-in template.
var wantTools = map[string][]string{
	BasicCalculator: {"add", "divide", "multiply", "subtract"},
	WebScraper:      {"extract_data", "fetch_url"},
	FileHandler:     {"list_files", "read_file", "write_file"},
	DataProcessor:   {"filter_data", "parse_json", "summarize_data"},
	APIIntegration:  {"make_request", "parse_response"},
}

func TestNewServerUnknownName(t *testing.T) {
	_, err := NewServer("nope", Options{})
	if !errors.Is(err, ErrUnknownTemplate) {
		t.Fatalf("NewServer(nope) error = %v, want ErrUnknownTemplate", err)
	}
	for _, name := range []string{`"nope"`, BasicCalculator, WebScraper, FileHandler, DataProcessor, APIIntegration} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not mention %s", err, name)
		}
	}
	err = Serve(context.Background(), "nope", Options{}, strings.NewReader(""), io.Discard)
	if !errors.Is(err, ErrUnknownTemplate) {
		t.Errorf("Serve(nope) error = %v, want ErrUnknownTemplate", err)
	}
}

// TestEveryBuiltinServes checks that each catalog entry has a server with the
// expected tools, output schemas and server identity.
func TestEveryBuiltinServes(t *testing.T) {
	if len(Builtins()) != len(wantTools) {
		t.Fatalf("%d builtins, %d expected tool lists", len(Builtins()), len(wantTools))
	}
	for _, b := range Builtins() {
		t.Run(b.Name, func(t *testing.T) {
			c := newClient(t, b.Name, Options{BaseDir: t.TempDir()})
			res, err := c.ListTools(testCtx(t), mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range res.Tools {
				names = append(names, tool.Name)
				if tool.Description == "" {
					t.Errorf("%s has no description", tool.Name)
				}
				if tool.OutputSchema.Type != "object" {
					t.Errorf("%s has no object outputSchema", tool.Name)
				}
				writes := tool.Name == "write_file" || tool.Name == "make_request"
				if ro := tool.Annotations.ReadOnlyHint; ro == nil || *ro == writes {
					t.Errorf("%s: readOnlyHint = %v, want %v", tool.Name, ro, !writes)
				}
			}
			slices.Sort(names)
			if !slices.Equal(names, wantTools[b.Name]) {
				t.Errorf("tools = %v, want %v", names, wantTools[b.Name])
			}
		})
	}
}

func TestServerIdentity(t *testing.T) {
	srv, err := NewServer(DataProcessor, Options{})
	if err != nil {
		t.Fatal(err)
	}
	resp := srv.HandleMessage(testCtx(t), []byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	data, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Result struct {
			ServerInfo mcp.Implementation `json:"serverInfo"`
		} `json:"result"`
	}
	mustDecode(t, data, &got)
	if got.Result.ServerInfo.Name != "metamcp-data_processor" || got.Result.ServerInfo.Version != Version {
		t.Errorf("serverInfo = %+v, want metamcp-data_processor %s", got.Result.ServerInfo, Version)
	}
}

// pipeConn is the client side of a Serve running over io.Pipes.
type pipeConn struct {
	t    *testing.T
	in   *io.PipeWriter
	out  *bufio.Reader
	done chan error
}

// startServe runs Serve for name over pipes and returns the client side.
func startServe(t *testing.T, name string) *pipeConn {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	p := &pipeConn{t: t, in: inW, out: bufio.NewReader(outR), done: make(chan error, 1)}
	go func() {
		err := Serve(context.Background(), name, Options{}, inR, outW)
		outW.Close()
		p.done <- err
	}()
	return p
}

// send writes one JSON-RPC message line.
func (p *pipeConn) send(msg string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, msg+"\n"); err != nil {
		p.t.Fatalf("writing %s: %v", msg, err)
	}
}

// receive reads one JSON-RPC response line and checks its id.
func (p *pipeConn) receive(id int, out any) {
	p.t.Helper()
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		p.t.Fatalf("reading response %d: %v", id, err)
	}
	var resp struct {
		ID     int             `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	mustDecode(p.t, line, &resp)
	if resp.ID != id || resp.Error != nil {
		p.t.Fatalf("response %s, want a result for id %d", line, id)
	}
	mustDecode(p.t, resp.Result, out)
}

func TestServeOverPipes(t *testing.T) {
	p := startServe(t, BasicCalculator)
	// A failing test must still end Serve, or goleak reports its goroutines.
	t.Cleanup(func() { p.in.Close(); go io.Copy(io.Discard, p.out) })

	p.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"pipe-test","version":"1"}}}`)
	var init mcp.InitializeResult
	p.receive(1, &init)
	if init.ServerInfo.Name != "metamcp-basic_calculator" {
		t.Errorf("serverInfo.name = %q", init.ServerInfo.Name)
	}
	p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)

	p.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	var list mcp.ListToolsResult
	p.receive(2, &list)
	if len(list.Tools) != 4 {
		t.Errorf("tools/list returned %d tools, want 4", len(list.Tools))
	}

	p.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"divide","arguments":{"a":7,"b":2}}}`)
	var result struct {
		IsError           bool       `json:"isError"`
		StructuredContent calcResult `json:"structuredContent"`
	}
	p.receive(3, &result)
	if want := (calcResult{Result: 3.5, Operation: "divide", A: 7, B: 2}); result.IsError || result.StructuredContent != want {
		t.Errorf("divide(7, 2) = %+v, want %+v", result, want)
	}

	p.in.Close()
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("Serve returned %v after input closed, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its input was closed")
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	inR, inW := io.Pipe()
	defer inW.Close() // unblocks the transport's pending read once Serve is done
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, DataProcessor, Options{}, inR, io.Discard) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Serve returned %v after cancel, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context was cancelled")
	}
}
