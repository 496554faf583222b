package control

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/metamcp/metamcp/actors"
)

// Metrics are the Prometheus metrics of one instance, in a private
// registry. Observe feeds them from the event stream; the live figures
// (children, their memory) are read from the actor system at scrape time.
type Metrics struct {
	reg       *prometheus.Registry
	calls     *prometheus.CounterVec
	errors    *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	restarts  *prometheus.CounterVec
	loops     *prometheus.CounterVec
	poolHits  *prometheus.CounterVec
	poolMiss  *prometheus.CounterVec
	events    *prometheus.CounterVec
	collector *liveCollector
}

// NewMetrics registers every metric in a new private registry.
func NewMetrics() *Metrics {
	byTool := []string{"server_id", "tool"}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "metamcp_tool_calls_total",
			Help: "Tool calls finished, by server and tool."}, byTool),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "metamcp_tool_errors_total",
			Help: "Tool calls that failed or timed out (kind error, timeout) or returned isError (kind tool_error)."},
			append(byTool, "kind")),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "metamcp_tool_call_duration_seconds",
			Help: "Duration of tool calls.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, byTool),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "metamcp_server_restarts_total",
			Help: "Servers restarted after a failure or by hand."}, []string{"server_id"}),
		loops: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "metamcp_crash_loops_total",
			Help: "Servers that entered crash_loop."}, []string{"server_id"}),
		poolHits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "metamcp_pool_hits_total",
			Help: "Pool requests answered with an existing server."}, []string{"template"}),
		poolMiss: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "metamcp_pool_misses_total",
			Help: "Pool requests that started a new server."}, []string{"template"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "metamcp_events_total",
			Help: "Events recorded in the history, by type."}, []string{"type"}),
		collector: newLiveCollector(),
	}
	m.reg.MustRegister(m.calls, m.errors, m.latency, m.restarts, m.loops, m.poolHits, m.poolMiss, m.events, m.collector)
	return m
}

// Registry is the private registry (for tests and for /metrics).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Observe counts one event. It is actors.Options.OnEvent: it is called from
// the event-stream actor and only updates counters.
func (m *Metrics) Observe(e actors.Event) {
	m.events.WithLabelValues(e.Event).Inc()
	tool, _ := e.Data["tool"].(string)
	switch e.Event {
	case actors.EventToolExecuted, actors.EventToolError, actors.EventToolTimeout:
		m.calls.WithLabelValues(e.ServerID, tool).Inc()
		if ms, ok := e.Data["duration_ms"].(float64); ok {
			m.latency.WithLabelValues(e.ServerID, tool).Observe(ms / 1000)
		}
		if kind := errorKind(e); kind != "" {
			m.errors.WithLabelValues(e.ServerID, tool, kind).Inc()
		}
	case actors.EventServerRestarted:
		m.restarts.WithLabelValues(e.ServerID).Inc()
	case actors.EventCrashLoop:
		m.loops.WithLabelValues(e.ServerID).Inc()
	case actors.EventPoolReused:
		m.poolHits.WithLabelValues(templateOf(e)).Inc()
	case actors.EventPoolAdded:
		m.poolMiss.WithLabelValues(templateOf(e)).Inc()
	}
}

func errorKind(e actors.Event) string {
	switch {
	case e.Event == actors.EventToolTimeout:
		return "timeout"
	case e.Event == actors.EventToolError:
		return "error"
	case e.Data["is_error"] == true:
		return "tool_error"
	}
	return ""
}

func templateOf(e actors.Event) string {
	t, _ := e.Data["template"].(string)
	return t
}

// liveCollector reads the servers at scrape time: how many children are
// alive, and each one's resident memory.
type liveCollector struct {
	live  *prometheus.Desc
	state *prometheus.Desc
	rss   *prometheus.Desc
	list  func() ([]actors.ServerInfo, error) // set by the Server
}

func newLiveCollector() *liveCollector {
	return &liveCollector{
		live: prometheus.NewDesc("metamcp_children_live", "Child processes running now.", nil, nil),
		state: prometheus.NewDesc("metamcp_servers", "Servers listed, by state.",
			[]string{"state"}, nil),
		rss: prometheus.NewDesc("metamcp_child_rss_bytes", "Resident memory of each server's process group at the last scan.",
			[]string{"server_id", "name", "template"}, nil),
	}
}

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.live
	ch <- c.state
	ch <- c.rss
}

func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	if c.list == nil {
		return
	}
	servers, err := c.list()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.live, err)
		return
	}
	live, states := 0, map[string]int{}
	for _, s := range servers {
		states[s.Status]++
		if s.PID > 0 {
			live++
		}
		if s.RSSMB != nil {
			ch <- prometheus.MustNewConstMetric(c.rss, prometheus.GaugeValue, *s.RSSMB*(1<<20), s.ServerID, s.Name, s.Template)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.live, prometheus.GaugeValue, float64(live))
	for st, n := range states {
		ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, float64(n), st)
	}
}

// scrapeTimeout bounds the ListServers of one scrape.
const scrapeTimeout = 5 * time.Second
