package templates

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// newTestSite starts a loopback server for testSite that the test closes.
func newTestSite(t *testing.T) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(testSite(release))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: cleanups are LIFO
	return srv
}

// testSite serves the pages the scraper and API tests fetch. /hang answers
// only when the client goes away or release is closed.
func testSite(release <-chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<html><h1>Hello</h1></html>")
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nothing here", http.StatusNotFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, strings.Repeat("0123456789", 10)) // 100 bytes
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/page", http.StatusFound)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	return mux
}

func TestFetchURL(t *testing.T) {
	srv := newTestSite(t)
	c := newClient(t, WebScraper, Options{MaxBodyBytes: 100})

	var got fetchResult
	ok(t, call(t, c, "fetch_url", map[string]any{"url": srv.URL + "/page"}), &got)
	want := fetchResult{
		URL: srv.URL + "/page", FinalURL: srv.URL + "/page", StatusCode: 200,
		ContentType: "text/html; charset=utf-8", Content: "<html><h1>Hello</h1></html>", Length: 27,
	}
	if got != want {
		t.Errorf("fetch_url = %+v\nwant        %+v", got, want)
	}

	t.Run("status is reported, not an error", func(t *testing.T) {
		var got fetchResult
		ok(t, call(t, c, "fetch_url", map[string]any{"url": srv.URL + "/missing"}), &got)
		if got.StatusCode != 404 || got.Content != "nothing here\n" {
			t.Errorf("got %+v, want status 404 with its body", got)
		}
	})
	t.Run("redirect followed", func(t *testing.T) {
		var got fetchResult
		ok(t, call(t, c, "fetch_url", map[string]any{"url": srv.URL + "/redirect"}), &got)
		if got.StatusCode != 200 || got.URL != srv.URL+"/redirect" || got.FinalURL != srv.URL+"/page" {
			t.Errorf("got %+v, want the /page response", got)
		}
	})
	t.Run("body exactly at the cap is whole", func(t *testing.T) {
		var got fetchResult
		ok(t, call(t, c, "fetch_url", map[string]any{"url": srv.URL + "/big"}), &got)
		if got.Truncated || got.Length != 100 {
			t.Errorf("length %d truncated %v, want 100 and false", got.Length, got.Truncated)
		}
	})
}

func TestFetchURLTruncates(t *testing.T) {
	srv := newTestSite(t)
	c := newClient(t, WebScraper, Options{MaxBodyBytes: 15})
	var got fetchResult
	ok(t, call(t, c, "fetch_url", map[string]any{"url": srv.URL + "/big"}), &got)
	if !got.Truncated || got.Length != 15 || got.Content != "012345678901234" {
		t.Errorf("got length %d truncated %v content %q, want the first 15 bytes, truncated", got.Length, got.Truncated, got.Content)
	}
}

func TestFetchURLTimeout(t *testing.T) {
	srv := newTestSite(t)
	c := newClient(t, WebScraper, Options{HTTPTimeout: 100 * time.Millisecond})
	start := time.Now()
	toolError(t, call(t, c, "fetch_url", map[string]any{"url": srv.URL + "/hang"}), "timed out after 100ms")
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("timeout took %s", elapsed)
	}
}

func TestFetchURLErrors(t *testing.T) {
	c := newClient(t, WebScraper, Options{})
	for _, tc := range []struct {
		name string
		args map[string]any
		want []string
	}{
		{"file scheme", map[string]any{"url": "file:///etc/passwd"}, []string{"only http and https", `"file"`}},
		{"ftp scheme", map[string]any{"url": "ftp://example.com/x"}, []string{"only http and https", `"ftp"`}},
		{"relative", map[string]any{"url": "/page"}, []string{"only http and https"}},
		{"no host", map[string]any{"url": "http:///page"}, []string{"no host"}},
		{"unparsable", map[string]any{"url": "http://[::1"}, []string{"invalid URL"}},
		{"missing", map[string]any{}, []string{"missing required argument", `"url"`}},
		{"not a string", map[string]any{"url": 5}, []string{`"url"`, "must be a string"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toolError(t, call(t, c, "fetch_url", tc.args), tc.want...)
		})
	}
}

func TestFetchURLConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	c := newClient(t, WebScraper, Options{})
	toolError(t, call(t, c, "fetch_url", map[string]any{"url": url}), "request failed", "refused")
}

const scrapeHTML = `<html><body>
<h1>  Title  </h1>
<ul>
  <li class="item">  one </li>
  <li class="item other">two</li>
  <li>not an item</li>
  <li class="item"><b>three</b> parts</li>
</ul>
<a href="/a">First</a> <a>no href</a> <a href="https://example.com/b"> Second </a>
</body></html>`

func TestExtractData(t *testing.T) {
	c := newClient(t, WebScraper, Options{})
	for _, tc := range []struct {
		selector, attribute string
		want                []string
	}{
		{"h1", "", []string{"Title"}},
		{".item", "", []string{"one", "two", "three parts"}},
		{"a[href]", "", []string{"First", "Second"}},
		{"a", "href", []string{"/a", "https://example.com/b"}},
		{"li.item.other, h1", "", []string{"Title", "two"}},
		{"table", "", []string{}},
	} {
		t.Run(tc.selector+"@"+tc.attribute, func(t *testing.T) {
			args := map[string]any{"html": scrapeHTML, "selector": tc.selector}
			if tc.attribute != "" {
				args["attribute"] = tc.attribute
			}
			var got extractResult
			ok(t, call(t, c, "extract_data", args), &got)
			if !slices.Equal(got.Data, tc.want) || got.Count != len(tc.want) ||
				got.Selector != tc.selector || got.Attribute != tc.attribute {
				t.Errorf("got %+v, want data %q", got, tc.want)
			}
		})
	}
}

func TestExtractDataEmptyMatchIsArray(t *testing.T) {
	c := newClient(t, WebScraper, Options{})
	res := call(t, c, "extract_data", map[string]any{"html": "<p>x</p>", "selector": "h2"})
	if got := text(t, res); got != `{"selector":"h2","data":[],"count":0}` {
		t.Errorf("text = %s, want data as an empty array", got)
	}
}

func TestExtractDataErrors(t *testing.T) {
	c := newClient(t, WebScraper, Options{})
	for _, tc := range []struct {
		name string
		args map[string]any
		want []string
	}{
		{"unclosed bracket", map[string]any{"html": scrapeHTML, "selector": "div["}, []string{"invalid CSS selector", `"div["`}},
		{"bad pseudo", map[string]any{"html": scrapeHTML, "selector": "a:nope"}, []string{"invalid CSS selector"}},
		{"dangling combinator", map[string]any{"html": scrapeHTML, "selector": "ul >"}, []string{"invalid CSS selector"}},
		{"empty selector", map[string]any{"html": scrapeHTML, "selector": " "}, []string{"invalid CSS selector", "empty"}},
		{"missing html", map[string]any{"selector": "h1"}, []string{"missing required argument", `"html"`}},
		{"missing selector", map[string]any{"html": scrapeHTML}, []string{"missing required argument", `"selector"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toolError(t, call(t, c, "extract_data", tc.args), tc.want...)
		})
	}
}
