package actors

import (
	"sort"
	"sync/atomic"
	"time"

	"github.com/metamcp/metamcp/actors/child"
	"github.com/metamcp/metamcp/config"
)

// Directory is a snapshot of the servers as a gateway front end sees them:
// who they are, what they offer, and, while running, how to reach their
// child at once (Relay). The root publishes a new snapshot after every
// change of a server's presence, state or offer; a snapshot never changes.
type Directory struct {
	Version uint64
	Servers []*DirServer // by Name, then ID
	byID    map[string]*DirServer
}

// Server finds a server by its server_id.
func (d *Directory) Server(id string) (*DirServer, bool) {
	s, ok := d.byID[id]
	return s, ok
}

// DirServer is one server in a Directory.
type DirServer struct {
	ID       string
	Name     string
	Template string
	State    string
	Timeout  time.Duration // the server's timeout_seconds
	// Info is what the last handshake learned (tools, capabilities), kept
	// while the server restarts; nil before its first handshake.
	Info *child.Info
	// Tools filters which of its tools a gateway lists (the server's
	// config.tools, else its template's); the zero filter allows all.
	Tools config.ToolFilter

	route *route // the running child, or nil
}

// Running says whether the server's child is up and reachable by Relay.
func (s *DirServer) Running() bool { return s.route != nil }

// Gen numbers the server's running child (0: none): a new number is a
// new process, which has yet to hear what earlier ones were told.
func (s *DirServer) Gen() uint64 {
	if s.route == nil {
		return 0
	}
	return s.route.gen
}

// route is the running child of a server, for the gateway's relay path.
type route struct {
	conn  *child.Conn
	gen   uint64
	stats *serverStats
}

// directory holds the current snapshot and who is told of a new one.
type directory struct {
	cur      atomic.Pointer[Directory]
	onChange atomic.Pointer[func()]
	version  uint64 // written by the root only
}

// Directory returns the current snapshot (never nil).
func (s *System) Directory() *Directory {
	if d := s.deps.dir.cur.Load(); d != nil {
		return d
	}
	return &Directory{}
}

// OnDirectory sets f to be called after each new snapshot. f runs on the
// root's goroutine and must not block.
func (s *System) OnDirectory(f func()) { s.deps.dir.onChange.Store(&f) }

// publishDirectory makes a new snapshot from the registry when something
// in it may have changed.
func (r *rootActor) publishDirectory() {
	if !r.dirDirty {
		return
	}
	r.dirDirty = false
	d := &r.deps.dir
	d.version++
	snap := &Directory{Version: d.version, Servers: make([]*DirServer, 0, len(r.entries)),
		byID: make(map[string]*DirServer, len(r.entries))}
	for _, e := range r.entries {
		s := dirServer(e)
		snap.Servers, snap.byID[s.ID] = append(snap.Servers, s), s
	}
	sort.Slice(snap.Servers, func(i, j int) bool {
		a, b := snap.Servers[i], snap.Servers[j]
		return a.Name < b.Name || (a.Name == b.Name && a.ID < b.ID)
	})
	d.cur.Store(snap)
	if f := d.onChange.Load(); f != nil {
		(*f)()
	}
}

func dirServer(e *entry) *DirServer {
	s := &DirServer{ID: e.spec.ID, Name: e.spec.Name, Template: e.spec.Template, State: e.state,
		Timeout: e.spec.Timeout, Info: e.info, Tools: e.spec.Tools}
	if e.state == StateRunning && e.conn != nil && e.gen == e.connGen {
		s.route = &route{conn: e.conn, gen: e.gen, stats: e.stats}
	}
	return s
}
