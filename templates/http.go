package templates

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// fetcher performs the HTTP requests of fetch_url and make_request: bounded
// in time (the whole exchange, body included) and in body size.
type fetcher struct {
	client    *http.Client
	timeout   time.Duration
	maxBody   int64
	userAgent string
}

// fetched is a response whose body has been read, up to the size cap.
type fetched struct {
	finalURL  string
	status    int
	header    http.Header
	body      []byte
	truncated bool
}

func newFetcher(o Options, template string) *fetcher {
	return &fetcher{
		client:    &http.Client{Timeout: o.HTTPTimeout},
		timeout:   o.HTTPTimeout,
		maxBody:   o.MaxBodyBytes,
		userAgent: "metamcp-" + template + "/" + Version,
	}
}

// parseHTTPURL accepts only absolute http and https URLs with a host.
func parseHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", errURL, raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w %q: only http and https URLs are allowed, not %q", errURL, raw, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w %q: the URL has no host", errURL, raw)
	}
	return u, nil
}

// do sends req and reads at most maxBody bytes of the response body; a
// longer body is cut and reported as truncated.
func (f *fetcher) do(req *http.Request) (*fetched, error) {
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", f.userAgent)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, f.describe(err)
	}
	defer resp.Body.Close()
	body, truncated, err := readCapped(resp.Body, f.maxBody)
	if err != nil {
		return nil, f.describe(err)
	}
	return &fetched{
		finalURL: resp.Request.URL.String(), status: resp.StatusCode,
		header: resp.Header, body: body, truncated: truncated,
	}, nil
}

// readCapped reads r up to max bytes and reports whether more was there.
func readCapped(r io.Reader, max int64) ([]byte, bool, error) {
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(body)) > max {
		return body[:max], true, nil
	}
	return body, false, nil
}

// describe turns a transport error into an actionable message.
func (f *fetcher) describe(err error) error {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("%w after %s (no complete response within the HTTP timeout)", errTimeout, f.timeout)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: the call was cancelled", errRequest)
	default:
		return fmt.Errorf("%w: %v", errRequest, err)
	}
}
