package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/templates"
)

// askTimeout bounds quick questions to the actor system.
const askTimeout = 10 * time.Second

// followEvery is how often a followed event stream polls the history.
const followEvery = 100 * time.Millisecond

// routes is the API:
//
//	GET  /v1/instance                 Record
//	GET  /v1/tree                     actors.TreeNode (the root)
//	GET  /v1/servers                  {"servers": [actors.ServerInfo]}
//	GET  /v1/events?server=&type=&since=&limit=&follow=1
//	                                  {"events": [actors.Event], "total"}, or
//	                                  with follow, NDJSON: one event a line
//	POST /v1/servers/{id}/restart     {"server": actors.ServerInfo}
//	POST /v1/servers/{id}/stop        {"server_id"}
//	GET  /v1/templates                {"templates": [templates.Template]}
//	GET  /metrics                     Prometheus text format
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/instance", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, s.Record()) })
	mux.HandleFunc("GET /v1/tree", s.ask(func(*http.Request) (actors.Message, time.Duration) {
		return &actors.DescribeTree{}, askTimeout
	}))
	mux.HandleFunc("GET /v1/servers", s.getServers)
	mux.HandleFunc("GET /v1/events", s.getEvents)
	mux.HandleFunc("POST /v1/servers/{id}/restart", s.ask(func(r *http.Request) (actors.Message, time.Duration) {
		return &actors.RestartServer{ServerID: r.PathValue("id")}, s.sys.Config().StartTimeout() + 5*time.Second
	}))
	mux.HandleFunc("POST /v1/servers/{id}/stop", s.ask(func(r *http.Request) (actors.Message, time.Duration) {
		return &actors.StopServer{ServerID: r.PathValue("id")}, askTimeout
	}))
	mux.HandleFunc("GET /v1/templates", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string][]templates.Template{"templates": s.sys.Catalog().All()})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no route %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// ask answers with the actor system's reply to one message, as JSON.
func (s *Server) ask(build func(*http.Request) (actors.Message, time.Duration)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		msg, timeout := build(r)
		res, err := s.sys.Ask(msg, timeout)
		if err != nil {
			writeError(w, statusOf(err), err.Error())
			return
		}
		writeJSON(w, replyJSON(res))
	}
}

func (s *Server) getServers(w http.ResponseWriter, _ *http.Request) {
	list, err := s.listServers()
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	if list == nil {
		list = []actors.ServerInfo{}
	}
	writeJSON(w, map[string]any{"servers": list})
}

// getEvents answers a page of the history or, with follow=1, streams it:
// the matching events first, then each new one as it is recorded, one JSON
// object a line, until the client goes or the server closes.
func (s *Server) getEvents(w http.ResponseWriter, r *http.Request) {
	q, follow, err := eventQuery(r, time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	page, err := s.queryEvents(q)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	if !follow {
		writeJSON(w, replyJSON(page))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	s.follow(w, r, q, page.Events)
}

func (s *Server) follow(w http.ResponseWriter, r *http.Request, q actors.QueryEvents, first []actors.Event) {
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	send := func(evs []actors.Event) bool {
		for _, e := range evs {
			if enc.Encode(e) != nil {
				return false
			}
			q.AfterID = e.ID
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	if !send(first) {
		return
	}
	q.Limit, q.Oldest = 1000, true // page forward: a burst of more than a page is read over several polls
	tick := time.NewTicker(followEvery)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
		for { // until a short page: caught up
			page, err := s.queryEvents(q)
			if err != nil || !send(page.Events) {
				return
			}
			if len(page.Events) < q.Limit {
				// Nothing else matched up to the newest id: a filter that
				// matches rarely does not rescan the history every poll.
				q.AfterID = max(q.AfterID, page.Newest)
				break
			}
		}
	}
}

func (s *Server) queryEvents(q actors.QueryEvents) (*actors.EventPage, error) {
	res, err := s.sys.Ask(&q, askTimeout)
	if err != nil {
		return nil, err
	}
	page, ok := res.(*actors.EventPage)
	if !ok {
		return nil, fmt.Errorf("unexpected reply %T", res)
	}
	if page.Events == nil {
		page.Events = []actors.Event{}
	}
	return page, nil
}

// eventQuery reads server, type, since (a duration back from now or an
// RFC 3339 time), limit (default 100) and follow.
func eventQuery(r *http.Request, now time.Time) (q actors.QueryEvents, follow bool, err error) {
	v := r.URL.Query()
	q = actors.QueryEvents{Limit: 100, ServerID: v.Get("server"), Type: v.Get("type")}
	if l := v.Get("limit"); l != "" {
		if q.Limit, err = strconv.Atoi(l); err != nil || q.Limit < 1 {
			return q, false, fmt.Errorf("limit: want a whole number above 0, got %q", l)
		}
	}
	if since := v.Get("since"); since != "" {
		if q.Since, err = actors.ParseSince(since, now); err != nil {
			return q, false, err
		}
	}
	switch f := v.Get("follow"); f {
	case "", "0", "false":
	case "1", "true":
		follow = true
	default:
		return q, false, fmt.Errorf("follow: want 1 or 0, got %q", f)
	}
	return q, follow, nil
}

// replyJSON gives the replies without JSON tags the API's snake_case shape.
func replyJSON(res any) any {
	switch r := res.(type) {
	case *actors.ServerCreated:
		return map[string]any{"server": r.Server, "tools": r.Tools}
	case *actors.ServerStopped:
		return map[string]any{"server_id": r.ServerID}
	case *actors.EventPage:
		return map[string]any{"events": r.Events, "total": r.Total, "run": r.Run}
	}
	return res
}

// statusOf maps an actor error to an HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, actors.ErrUnknownServer), errors.Is(err, actors.ErrUnknownTemplate):
		return http.StatusNotFound
	case errors.Is(err, actors.ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, actors.ErrStopping), errors.Is(err, actors.ErrNotRunning):
		return http.StatusConflict
	case errors.Is(err, actors.ErrShuttingDown):
		return http.StatusServiceUnavailable
	case errors.Is(err, actors.ErrCallTimeout):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": strings.TrimSpace(msg)})
}
