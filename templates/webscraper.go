package templates

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// fetchResult is the result of fetch_url.
type fetchResult struct {
	URL         string `json:"url" jsonschema:"the URL that was requested"`
	FinalURL    string `json:"final_url" jsonschema:"the URL of the response, after redirects"`
	StatusCode  int    `json:"status_code" jsonschema:"the HTTP status code"`
	ContentType string `json:"content_type" jsonschema:"the Content-Type response header"`
	Content     string `json:"content" jsonschema:"the response body as text"`
	Length      int    `json:"length" jsonschema:"bytes of body returned in content"`
	Truncated   bool   `json:"truncated" jsonschema:"true when the body was longer than the size cap and was cut"`
}

// extractResult is the result of extract_data.
type extractResult struct {
	Selector  string   `json:"selector" jsonschema:"the CSS selector that was applied"`
	Attribute string   `json:"attribute,omitempty" jsonschema:"the attribute whose values were extracted, if any"`
	Data      []string `json:"data" jsonschema:"trimmed text (or attribute value) of each match, in document order"`
	Count     int      `json:"count" jsonschema:"number of entries in data"`
}

// newWebScraperServer builds web_scraper_template: fetch_url (HTTP GET,
// bounded by Options.HTTPTimeout and Options.MaxBodyBytes) and extract_data
// (CSS selectors over HTML text).
func newWebScraperServer(o Options) (*server.MCPServer, error) {
	f := newFetcher(o, WebScraper)
	return newMCPServer(WebScraper,
		server.ServerTool{Tool: fetchURLTool(o), Handler: handle(f.fetchURL)},
		server.ServerTool{Tool: extractDataTool(), Handler: handle(extractData)},
	), nil
}

func fetchURLTool(o Options) mcp.Tool {
	return mcp.NewTool("fetch_url",
		mcp.WithDescription(fmt.Sprintf("Fetch a web page or file with an HTTP GET and return its body as text. "+
			"Only http and https URLs. Redirects are followed. The body is cut at %d bytes (truncated: true); "+
			"the whole request must finish within %s. A non-2xx status is returned, not treated as an error.",
			o.MaxBodyBytes, o.HTTPTimeout)),
		mcp.WithString("url", mcp.Required(), mcp.Description("Absolute http:// or https:// URL to fetch.")),
		mcp.WithOutputSchema[fetchResult](),
		readOnly(true),
	)
}

func extractDataTool() mcp.Tool {
	return mcp.NewTool("extract_data",
		mcp.WithDescription("Select elements of an HTML document with a CSS selector and return the trimmed "+
			"text of each match (or the value of one attribute, when attribute is given). "+
			"Typical use: fetch_url, then extract_data on its content."),
		mcp.WithString("html", mcp.Required(), mcp.Description("The HTML text to search.")),
		mcp.WithString("selector", mcp.Required(),
			mcp.Description(`CSS selector, for example "h1", ".item", "a[href]" or "ul > li:nth-child(2)".`)),
		mcp.WithString("attribute",
			mcp.Description(`Optional attribute name, for example "href": return its value for each match that has it, instead of the text.`)),
		mcp.WithOutputSchema[extractResult](),
		readOnly(false),
	)
}

// fetchURL GETs the url argument.
func (f *fetcher) fetchURL(ctx context.Context, in args) (any, error) {
	raw, err := in.str("url")
	if err != nil {
		return nil, err
	}
	u, err := parseHTTPURL(raw)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", errURL, raw, err)
	}
	resp, err := f.do(req)
	if err != nil {
		return nil, err
	}
	return fetchResult{
		URL: raw, FinalURL: resp.finalURL, StatusCode: resp.status,
		ContentType: resp.header.Get("Content-Type"), Content: string(resp.body),
		Length: len(resp.body), Truncated: resp.truncated,
	}, nil
}

// extractData applies the selector argument to the html argument.
func extractData(_ context.Context, in args) (any, error) {
	html, err := in.str("html")
	if err != nil {
		return nil, err
	}
	selector, err := in.str("selector")
	if err != nil {
		return nil, err
	}
	attr, err := in.optStr("attribute", "")
	if err != nil {
		return nil, err
	}
	m, err := compileSelector(selector)
	if err != nil {
		return nil, err
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		return nil, fmt.Errorf("parsing HTML: %v", err)
	}
	data := selectData(doc.FindMatcher(m), attr)
	return extractResult{Selector: selector, Attribute: attr, Data: data, Count: len(data)}, nil
}

// compileSelector compiles a CSS selector (or comma-separated group) without
// ever panicking: goquery's own string methods match nothing on a bad
// selector, which would hide the mistake.
func compileSelector(selector string) (m goquery.Matcher, err error) {
	if strings.TrimSpace(selector) == "" {
		return nil, fmt.Errorf("%w: the selector is empty", errSelector)
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w %q: %v", errSelector, selector, r)
		}
	}()
	sel, err := cascadia.Compile(selector)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", errSelector, selector, err)
	}
	return sel, nil
}

// selectData returns the trimmed text of each selected element or, when attr
// is set, the value of attr on each selected element that has it.
func selectData(s *goquery.Selection, attr string) []string {
	data := []string{}
	s.Each(func(_ int, el *goquery.Selection) {
		if attr == "" {
			data = append(data, strings.TrimSpace(el.Text()))
			return
		}
		if v, ok := el.Attr(attr); ok {
			data = append(data, strings.TrimSpace(v))
		}
	})
	return data
}
