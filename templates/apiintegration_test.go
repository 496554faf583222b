package templates

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
)

// echoRequest is what the echo API saw.
type echoRequest struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	Host        string `json:"host"`
	ContentType string `json:"content_type"`
	Auth        string `json:"auth"`
	Count       string `json:"count"`
	UserAgent   string `json:"user_agent"`
	Body        string `json:"body"`
}

// newEchoAPI starts a loopback API: /echo answers with JSON describing the
// request, /text with plain text, /multi with a repeated header, /hang only
// when the client goes away or the test ends; the rest is testSite.
func newEchoAPI(t *testing.T) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/", testSite(release))
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Method", r.Method)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(echoRequest{
			Method: r.Method, Path: r.URL.Path, Host: r.Host, ContentType: r.Header.Get("Content-Type"),
			Auth: r.Header.Get("Authorization"), Count: r.Header.Get("X-Count"),
			UserAgent: r.UserAgent(), Body: string(body),
		})
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "plain words")
	})
	mux.HandleFunc("/multi", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"n": 12345678901234567890}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv
}

// echoOf decodes the echo API's answer from a make_request result.
func echoOf(t *testing.T, res requestResult) echoRequest {
	t.Helper()
	var e echoRequest
	if err := json.Unmarshal([]byte(res.Body), &e); err != nil {
		t.Fatalf("echo body %q: %v", res.Body, err)
	}
	return e
}

func TestMakeRequestGET(t *testing.T) {
	srv := newEchoAPI(t)
	c := newClient(t, APIIntegration, Options{})
	got := request(t, c, map[string]any{
		"url":     srv.URL + "/echo",
		"headers": map[string]any{"Authorization": "Bearer t0k", "X-Count": 3},
	})
	if got.URL != srv.URL+"/echo" || got.Method != "GET" || got.StatusCode != 201 || got.Truncated {
		t.Errorf("got %+v", got)
	}
	if got.Headers["Content-Type"] != "application/json" || got.Headers["X-Request-Method"] != "GET" {
		t.Errorf("headers = %v", got.Headers)
	}
	e := echoOf(t, got)
	if e.Auth != "Bearer t0k" || e.Count != "3" || e.Body != "" || !strings.HasPrefix(e.UserAgent, "metamcp-api_integration/") {
		t.Errorf("server saw %+v", e)
	}
	parsed, isObj := got.JSON.(map[string]any)
	if !isObj || parsed["method"] != "GET" || parsed["path"] != "/echo" {
		t.Errorf("json = %#v, want the parsed echo", got.JSON)
	}
}

func TestMakeRequestBodies(t *testing.T) {
	srv := newEchoAPI(t)
	c := newClient(t, APIIntegration, Options{})
	for _, tc := range []struct {
		name              string
		args              string
		wantMethod        string
		wantContentType   string
		wantBody          string
		wantHostFromParam bool
	}{
		{"object body is JSON", `{"method": "post", "body": {"n": 12345678901234567890, "s": "x"}}`,
			"POST", "application/json", `{"n":12345678901234567890,"s":"x"}`, false},
		{"array body is JSON", `{"method": "PUT", "body": [1, 2]}`, "PUT", "application/json", `[1,2]`, false},
		{"string body as is", `{"method": "PATCH", "body": "a=1&b=2", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}`,
			"PATCH", "application/x-www-form-urlencoded", "a=1&b=2", false},
		{"caller content type kept", `{"method": "POST", "body": {"a": 1}, "headers": {"content-type": "application/vnd.api+json"}}`,
			"POST", "application/vnd.api+json", `{"a":1}`, false},
		{"delete without body", `{"method": "DELETE"}`, "DELETE", "", "", false},
		{"host header", `{"headers": {"Host": "api.example"}}`, "GET", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var args map[string]any
			mustDecode(t, []byte(tc.args), &args)
			args["url"] = srv.URL + "/echo"
			got := request(t, c, args)
			e := echoOf(t, got)
			if got.Method != tc.wantMethod || e.Method != tc.wantMethod || e.ContentType != tc.wantContentType || e.Body != tc.wantBody {
				t.Errorf("sent %s, server saw %+v; want %s %q %q", got.Method, e, tc.wantMethod, tc.wantContentType, tc.wantBody)
			}
			if tc.wantHostFromParam && e.Host != "api.example" {
				t.Errorf("server saw host %q, want api.example", e.Host)
			}
		})
	}
}

// request calls make_request and decodes its successful result.
func request(t *testing.T, c *client.Client, args map[string]any) requestResult {
	t.Helper()
	var got requestResult
	ok(t, call(t, c, "make_request", args), &got)
	return got
}

func TestMakeRequestResponses(t *testing.T) {
	srv := newEchoAPI(t)
	c := newClient(t, APIIntegration, Options{})

	got := request(t, c, map[string]any{"url": srv.URL + "/text"})
	if got.Body != "plain words" || got.JSON != nil || got.StatusCode != 200 {
		t.Errorf("text response = %+v, want body and no json", got)
	}

	res := call(t, c, "make_request", map[string]any{"url": srv.URL + "/multi"})
	got = requestResult{}
	ok(t, res, &got)
	if got.Headers["X-Multi"] != "a, b" {
		t.Errorf("X-Multi = %q, want \"a, b\"", got.Headers["X-Multi"])
	}
	if !strings.Contains(text(t, res), `"json":{"n":12345678901234567890}`) {
		t.Errorf("big integer not preserved in %s", text(t, res))
	}

	got = request(t, c, map[string]any{"url": srv.URL + "/missing"})
	if got.StatusCode != 404 || got.Body != "nothing here\n" {
		t.Errorf("404 response = %+v", got)
	}

	got = request(t, c, map[string]any{"url": srv.URL + "/echo", "method": "HEAD"})
	if got.StatusCode != 201 || got.Body != "" || got.JSON != nil || got.Headers["X-Request-Method"] != "HEAD" {
		t.Errorf("HEAD response = %+v", got)
	}

	got = request(t, c, map[string]any{"url": srv.URL + "/echo", "method": "OPTIONS"})
	if echoOf(t, got).Method != "OPTIONS" {
		t.Errorf("OPTIONS response = %+v", got)
	}
}

func TestMakeRequestTruncates(t *testing.T) {
	srv := newEchoAPI(t)
	c := newClient(t, APIIntegration, Options{MaxBodyBytes: 50})
	got := request(t, c, map[string]any{"url": srv.URL + "/big"})
	if !got.Truncated || got.Body != strings.Repeat("0123456789", 5) || got.JSON != nil {
		t.Errorf("big response: truncated %v, body %q, json %v; want truncated at 50 and no json", got.Truncated, got.Body, got.JSON)
	}
	// A JSON body cut short is not parsed.
	got = request(t, c, map[string]any{"url": srv.URL + "/echo"})
	if !got.Truncated || got.JSON != nil {
		t.Errorf("cut JSON response: truncated %v, json %v; want truncated and no json", got.Truncated, got.JSON)
	}
}

func TestMakeRequestTimeout(t *testing.T) {
	srv := newEchoAPI(t)
	c := newClient(t, APIIntegration, Options{HTTPTimeout: 100 * time.Millisecond})
	start := time.Now()
	toolError(t, call(t, c, "make_request", map[string]any{"url": srv.URL + "/hang", "method": "POST", "body": "x"}),
		"timed out after 100ms")
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("timeout took %s", elapsed)
	}
}

func TestMakeRequestErrors(t *testing.T) {
	srv := newEchoAPI(t)
	c := newClient(t, APIIntegration, Options{})
	for _, tc := range []struct {
		name string
		args map[string]any
		want []string
	}{
		{"file scheme", map[string]any{"url": "file:///etc/passwd"}, []string{"only http and https"}},
		{"gopher scheme", map[string]any{"url": "gopher://x/"}, []string{"only http and https"}},
		{"missing url", map[string]any{"method": "GET"}, []string{"missing required argument", `"url"`}},
		{"TRACE", map[string]any{"url": srv.URL, "method": "TRACE"}, []string{"unsupported HTTP method", `"TRACE"`, "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"}},
		{"CONNECT", map[string]any{"url": srv.URL, "method": "connect"}, []string{"unsupported HTTP method", `"CONNECT"`}},
		{"method not a string", map[string]any{"url": srv.URL, "method": 1}, []string{`"method"`, "must be a string"}},
		{"headers not an object", map[string]any{"url": srv.URL, "headers": "X: y"}, []string{`"headers"`, "must be an object", "got string"}},
		{"header value an object", map[string]any{"url": srv.URL, "headers": map[string]any{"X-A": map[string]any{}}}, []string{"invalid header", `"X-A"`, "got object"}},
		{"header name invalid", map[string]any{"url": srv.URL, "headers": map[string]any{"Bad Name": "v"}}, []string{"request failed", "invalid header field name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toolError(t, call(t, c, "make_request", tc.args), tc.want...)
		})
	}
}

func TestParseResponse(t *testing.T) {
	c := newClient(t, APIIntegration, Options{})
	for _, tc := range []struct {
		input, want string
	}{
		{`{"zeta": 1, "alpha": {"x": [true]}, "mid": null}`,
			`{"parsed":{"alpha":{"x":[true]},"mid":null,"zeta":1},"type":"object","keys":["alpha","mid","zeta"]}`},
		{`{}`, `{"parsed":{},"type":"object","keys":[]}`},
		{`[1, {"a": 2}]`, `{"parsed":[1,{"a":2}],"type":"array","length":2}`},
		{`"s"`, `{"parsed":"s","type":"string"}`},
		{`12345678901234567890`, `{"parsed":12345678901234567890,"type":"number"}`},
	} {
		t.Run(tc.input, func(t *testing.T) {
			res := call(t, c, "parse_response", map[string]any{"response_json": tc.input})
			var got responseResult
			ok(t, res, &got)
			if text(t, res) != tc.want {
				t.Errorf("text = %s\nwant   %s", text(t, res), tc.want)
			}
			if got.Type == "object" && !slices.IsSorted(got.Keys) {
				t.Errorf("keys %v not sorted", got.Keys)
			}
		})
	}
}

func TestParseResponseErrors(t *testing.T) {
	c := newClient(t, APIIntegration, Options{})
	toolError(t, call(t, c, "parse_response", map[string]any{"response_json": "<html>"}), "invalid JSON", "line 1, column 1")
	toolError(t, call(t, c, "parse_response", map[string]any{"response_json": `{"a": 1,}`}), "invalid JSON", "line 1, column 9")
	toolError(t, call(t, c, "parse_response", map[string]any{"response_json": ""}), "invalid JSON", "empty")
	toolError(t, call(t, c, "parse_response", map[string]any{}), "missing required argument", `"response_json"`)
	toolError(t, call(t, c, "parse_response", map[string]any{"response_json": []int{1}}), "must be a string", "got array")
}
