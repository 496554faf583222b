package templates

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// allowedMethods are the HTTP methods make_request sends.
var allowedMethods = []string{
	http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodHead, http.MethodOptions,
}

// requestResult is the result of make_request.
type requestResult struct {
	URL        string            `json:"url" jsonschema:"the URL that was requested"`
	Method     string            `json:"method" jsonschema:"the HTTP method that was sent"`
	StatusCode int               `json:"status_code" jsonschema:"the HTTP status code"`
	Headers    map[string]string `json:"headers" jsonschema:"response headers; repeated headers are joined with a comma"`
	Body       string            `json:"body" jsonschema:"the response body as text"`
	JSON       any               `json:"json,omitempty" jsonschema:"the body parsed, when it is complete, valid JSON other than null"`
	Truncated  bool              `json:"truncated" jsonschema:"true when the body was longer than the size cap and was cut"`
}

// responseResult is the result of parse_response.
type responseResult struct {
	Parsed any      `json:"parsed" jsonschema:"the parsed value"`
	Type   string   `json:"type" jsonschema:"enum=object,enum=array,enum=string,enum=number,enum=boolean,enum=null"`
	Keys   []string `json:"keys,omitzero" jsonschema:"objects only: the top-level keys, sorted"`
	Length *int     `json:"length,omitempty" jsonschema:"arrays only: the number of items"`
}

// newAPIIntegrationServer builds api_integration: make_request (any common
// HTTP method, bounded by Options.HTTPTimeout and Options.MaxBodyBytes) and
// parse_response.
func newAPIIntegrationServer(o Options) (*server.MCPServer, error) {
	f := newFetcher(o, APIIntegration)
	return newMCPServer(APIIntegration,
		server.ServerTool{Tool: makeRequestTool(o), Handler: handle(f.makeRequest)},
		server.ServerTool{Tool: parseResponseTool(), Handler: handle(parseResponse)},
	), nil
}

func makeRequestTool(o Options) mcp.Tool {
	return mcp.NewTool("make_request",
		mcp.WithDescription(fmt.Sprintf("Send an HTTP request to an API and return status, headers and body "+
			"(and the body parsed as json when it is JSON). Only http and https URLs. Redirects are followed. "+
			"The body is cut at %d bytes (truncated: true); the whole exchange must finish within %s. "+
			"A non-2xx status is returned, not treated as an error.", o.MaxBodyBytes, o.HTTPTimeout)),
		mcp.WithString("url", mcp.Required(), mcp.Description("Absolute http:// or https:// URL.")),
		mcp.WithString("method", mcp.DefaultString(http.MethodGet), mcp.Enum(allowedMethods...),
			mcp.Description("HTTP method; GET by default.")),
		mcp.WithObject("headers", mcp.AdditionalProperties(map[string]any{"type": []string{"string", "number", "boolean"}}),
			mcp.Description(`Request headers, e.g. {"Authorization": "Bearer ..."}. Numbers and booleans are sent as their JSON text.`)),
		mcp.WithAny("body",
			mcp.Description("Request body: a string is sent as is; any other JSON value is sent JSON-encoded with Content-Type application/json (unless headers set one).")),
		mcp.WithOutputSchema[requestResult](),
		mcp.WithDestructiveHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(true),
	)
}

func parseResponseTool() mcp.Tool {
	return mcp.NewTool("parse_response",
		mcp.WithDescription("Parse a JSON response text: return the value, its JSON type, the sorted "+
			"top-level keys of an object or the length of an array. Invalid JSON is reported with its line and column."),
		mcp.WithString("response_json", mcp.Required(), mcp.Description("The JSON text, e.g. the body of make_request.")),
		mcp.WithOutputSchema[responseResult](),
		readOnly(false),
	)
}

// makeRequest builds the request from the arguments, sends it and reports
// the response.
func (f *fetcher) makeRequest(ctx context.Context, in args) (any, error) {
	req, err := buildRequest(ctx, in)
	if err != nil {
		return nil, err
	}
	resp, err := f.do(req)
	if err != nil {
		return nil, err
	}
	res := requestResult{
		URL: req.URL.String(), Method: req.Method, StatusCode: resp.status,
		Headers: flattenHeader(resp.header), Body: string(resp.body), Truncated: resp.truncated,
	}
	if !resp.truncated && json.Valid(resp.body) {
		res.JSON, _ = decodeJSON(resp.body)
	}
	return res, nil
}

// buildRequest turns the url, method, headers and body arguments into a
// request bound to ctx.
func buildRequest(ctx context.Context, in args) (*http.Request, error) {
	raw, err := in.str("url")
	if err != nil {
		return nil, err
	}
	u, err := parseHTTPURL(raw)
	if err != nil {
		return nil, err
	}
	method, err := methodArg(in)
	if err != nil {
		return nil, err
	}
	header, err := headerArg(in)
	if err != nil {
		return nil, err
	}
	body, err := bodyArg(in, header)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", errURL, raw, err)
	}
	req.Header = header
	if host := header.Get("Host"); host != "" {
		req.Host = host
	}
	return req, nil
}

// methodArg returns the method argument, upper-cased, GET by default.
func methodArg(in args) (string, error) {
	m, err := in.optStr("method", http.MethodGet)
	if err != nil {
		return "", err
	}
	m = strings.ToUpper(strings.TrimSpace(m))
	if !slices.Contains(allowedMethods, m) {
		return "", fmt.Errorf("%w %q: use one of %s", errMethod, m, strings.Join(allowedMethods, ", "))
	}
	return m, nil
}

// headerArg returns the headers argument: an object whose values are
// strings, numbers or booleans.
func headerArg(in args) (http.Header, error) {
	h := http.Header{}
	if !in.present("headers") {
		return h, nil
	}
	v, err := in.value("headers")
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: argument \"headers\" must be an object of name to value, got %s", errHeader, typeName(v))
	}
	for name, val := range obj {
		switch val := val.(type) {
		case string:
			h.Set(name, val)
		case json.Number, bool:
			h.Set(name, fmt.Sprint(val))
		default:
			return nil, fmt.Errorf("%w %q: the value must be a string, got %s", errHeader, name, typeName(val))
		}
	}
	return h, nil
}

// bodyArg returns the body argument as a reader: a string as is, any other
// value JSON-encoded, in which case header gets Content-Type
// application/json unless it has one. No body gives nil.
func bodyArg(in args, header http.Header) (io.Reader, error) {
	if !in.present("body") {
		return nil, nil
	}
	v, err := in.value("body")
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok {
		return strings.NewReader(s), nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding body: %v", err)
	}
	if header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/json")
	}
	return bytes.NewReader(data), nil
}

// flattenHeader joins repeated header values with ", ".
func flattenHeader(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for name, values := range h {
		out[name] = strings.Join(values, ", ")
	}
	return out
}

// parseResponse parses the response_json argument.
func parseResponse(_ context.Context, in args) (any, error) {
	s, err := in.str("response_json")
	if err != nil {
		return nil, err
	}
	v, err := parseJSONString(s)
	if err != nil {
		return nil, err
	}
	res := responseResult{Parsed: v, Type: typeName(v)}
	switch v := v.(type) {
	case map[string]any:
		res.Keys = make([]string, 0, len(v))
		for k := range v {
			res.Keys = append(res.Keys, k)
		}
		slices.Sort(res.Keys)
	case []any:
		n := len(v)
		res.Length = &n
	}
	return res, nil
}
