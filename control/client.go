package control

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/metamcp/metamcp/actors"
)

// Client talks to one instance's control endpoint.
type Client struct {
	Instance Record
	http     *http.Client
}

// Dial connects to the instance with this pid or, with pid 0, to the only
// live instance: ErrNoInstance when there is none, a *ManyInstancesError
// when there are several.
func Dial(pid int) (*Client, error) {
	dir, err := RuntimeDir()
	if err != nil {
		return nil, err
	}
	live, err := instancesIn(dir)
	if err != nil {
		return nil, err
	}
	for _, r := range live {
		if pid == 0 && len(live) == 1 || r.PID == pid {
			return NewClient(r), nil
		}
	}
	switch {
	case pid != 0:
		return nil, fmt.Errorf("%w with pid %d (looked in %s)", ErrNoInstance, pid, dir)
	case len(live) == 0:
		return nil, fmt.Errorf("%w (looked in %s)", ErrNoInstance, dir)
	}
	return nil, &ManyInstancesError{Instances: live}
}

// NewClient returns a client for the instance of this record, over its
// socket.
func NewClient(r Record) *Client {
	var d net.Dialer
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.DialContext(ctx, "unix", r.Socket)
	}}
	return &Client{Instance: r, http: &http.Client{Transport: tr}}
}

// Get reads path and decodes its JSON answer into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, out)
}

// Post posts to path and decodes its JSON answer into out (if not nil).
func (c *Client) Post(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodPost, path, out)
}

// Raw reads path and returns its body as is.
func (c *Client) Raw(ctx context.Context, path string) ([]byte, error) {
	res, err := c.send(ctx, http.MethodGet, path)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	return io.ReadAll(res.Body)
}

// Tree reads the supervision tree.
func (c *Client) Tree(ctx context.Context) (*actors.TreeNode, error) {
	var t actors.TreeNode
	return &t, c.Get(ctx, "/v1/tree", &t)
}

// Servers lists the servers.
func (c *Client) Servers(ctx context.Context) ([]actors.ServerInfo, error) {
	var out struct{ Servers []actors.ServerInfo }
	return out.Servers, c.Get(ctx, "/v1/servers", &out)
}

// Follow streams the events matching q (server, type, since, limit) to fn,
// the matching history first, until ctx ends, the instance stops or fn
// returns an error.
func (c *Client) Follow(ctx context.Context, q url.Values, fn func(actors.Event) error) error {
	q.Set("follow", "1")
	res, err := c.send(ctx, http.MethodGet, "/v1/events?"+q.Encode())
	if err != nil {
		return err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e actors.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("reading events: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}

func (c *Client) do(ctx context.Context, method, path string, out any) error {
	res, err := c.send(ctx, method, path)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// send makes a request and turns an error answer into an *APIError.
func (c *Client) send(ctx context.Context, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://metamcp"+path, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metamcp pid %d: %w", c.Instance.PID, err)
	}
	if res.StatusCode >= 300 {
		defer res.Body.Close()
		var e struct{ Error string }
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("%s %s: %s", method, path, res.Status)
		}
		return nil, &APIError{Status: res.StatusCode, Message: e.Error}
	}
	return res, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }
