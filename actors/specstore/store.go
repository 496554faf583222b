package specstore

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Record is what is kept of one server.
type Record struct {
	Version   int       `json:"version"`
	ServerID  string    `json:"server_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// Request is create_server's request as metamcp's actors encode it,
	// without env values.
	Request json.RawMessage `json:"request"`
	// Env is the server's env: in memory only. On disk it is EnvNames and
	// EnvSealed.
	Env       map[string]string `json:"-"`
	EnvNames  []string          `json:"env_names,omitempty"`
	EnvSealed string            `json:"env_sealed,omitempty"`
}

// Loaded is one record as Load read it: Err says why it cannot be used
// (ErrCorrupt, ErrSealed); then only ServerID (from the file name) is sure.
type Loaded struct {
	Record
	Path string
	Err  error
}

const (
	version  = 1
	dirName  = "servers"
	keyName  = "servers.key"
	queueCap = 256
)

// Store is a session's server records. Safe for concurrent use.
type Store struct {
	dir     string // the session directory
	log     zerolog.Logger
	ops     chan op
	pending atomic.Int64 // ops queued and not yet applied
	done    chan struct{}
	closeMu sync.Mutex
	closed  bool
	key     keyring
	failed  atomic.Int64 // writes that failed (logged)
}

type op struct {
	put    *Record
	delete string
	synced chan struct{} // a Sync marker
}

// Open opens the records of the session directory dir, creating what is
// missing, and starts the writer.
func Open(dir string, log zerolog.Logger) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, dirName), 0o700); err != nil {
		return nil, fmt.Errorf("server records: %w", err)
	}
	s := &Store{dir: dir, log: log, ops: make(chan op, queueCap), done: make(chan struct{}),
		key: keyring{path: filepath.Join(dir, keyName)}}
	go s.write()
	return s, nil
}

// Put queues a record to be written (replacing one of the same ServerID).
func (s *Store) Put(r Record) {
	r.Version = version
	s.enqueue(op{put: &r})
}

// Delete queues the removal of a server's record.
func (s *Store) Delete(serverID string) { s.enqueue(op{delete: serverID}) }

func (s *Store) enqueue(o op) {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return
	}
	s.pending.Add(1)
	s.ops <- o
}

// Sync returns once everything queued before it is on disk (or failed, and
// was logged). It is cheap when nothing is queued.
func (s *Store) Sync() {
	if s == nil || s.pending.Load() == 0 {
		return
	}
	c := make(chan struct{})
	s.enqueue(op{synced: c}) // after Close it is dropped, and done is closed
	select {
	case <-c:
	case <-s.done:
	}
}

// Failed counts the writes that failed since Open.
func (s *Store) Failed() int64 { return s.failed.Load() }

// Close writes what is queued and stops the writer. A nil Store (none
// could be opened) closes as a no-op.
func (s *Store) Close() error {
	if s == nil {
		return nil
	}
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		<-s.done
		return nil
	}
	s.closed = true
	close(s.ops)
	s.closeMu.Unlock()
	<-s.done
	return nil
}

func (s *Store) write() {
	defer close(s.done)
	for o := range s.ops {
		var err error
		switch {
		case o.synced != nil:
			close(o.synced)
		case o.put != nil:
			err = s.writeRecord(o.put)
		default:
			err = s.remove(o.delete)
		}
		if err != nil {
			s.failed.Add(1)
			s.log.Error().Err(err).Msg("server record not written: this server may not be restored after a restart")
		}
		s.pending.Add(-1)
	}
}

func (s *Store) path(id string) string { return filepath.Join(s.dir, dirName, id+".json") }

func (s *Store) writeRecord(r *Record) error {
	if err := checkID(r.ServerID); err != nil {
		return err
	}
	if len(r.Env) > 0 {
		names, sealed, err := s.key.seal(r.ServerID, r.Env)
		if err != nil {
			// Kept without the values: the next run lists the server as
			// not restorable, saying why, instead of forgetting it.
			s.failed.Add(1)
			s.log.Error().Err(err).Str("server_id", r.ServerID).Msg("env not sealed: this server will not be restored")
		}
		r.EnvNames, r.EnvSealed = names, sealed
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.path(r.ServerID), append(b, '\n'))
}

func (s *Store) remove(id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	err := os.Remove(s.path(id))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Join(s.dir, dirName))
}

// Load reads every record, oldest created first. Call it before the first
// Put.
func (s *Store) Load() ([]Loaded, error) {
	dir := filepath.Join(s.dir, dirName)
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("server records: %w", err)
	}
	var out []Loaded
	for _, n := range names {
		name := n.Name()
		if !strings.HasSuffix(name, ".json") || n.IsDir() {
			if strings.HasPrefix(name, ".tmp-") { // left by a crash mid-write
				_ = os.Remove(filepath.Join(dir, name))
			}
			continue
		}
		id := strings.TrimSuffix(name, ".json")
		if checkID(id) != nil { // not ours (a person's copy?): set aside, never a server
			s.log.Warn().Str("file", name).Msg("not a server record (its name is not a server id); renamed to .ignored")
			_ = os.Rename(filepath.Join(dir, name), filepath.Join(dir, name+".ignored"))
			continue
		}
		out = append(out, s.load(filepath.Join(dir, name), id))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ServerID < out[j].ServerID
	})
	return out, nil
}

func (s *Store) load(path, id string) Loaded {
	l := Loaded{Path: path}
	l.ServerID = id
	b, err := os.ReadFile(path)
	if err != nil {
		l.Err = fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
		return l
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		l.Err = fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
		return l
	}
	switch {
	case r.Version != version:
		l.Err = fmt.Errorf("%w: %s: version %d, this metamcp reads %d", ErrCorrupt, path, r.Version, version)
	case r.ServerID != id:
		l.Err = fmt.Errorf("%w: %s: server_id %q does not match the file name", ErrCorrupt, path, r.ServerID)
	case len(r.Request) == 0:
		l.Err = fmt.Errorf("%w: %s: no request", ErrCorrupt, path)
	}
	if l.Err != nil {
		return l
	}
	if r.EnvSealed == "" && len(r.EnvNames) > 0 {
		l.Record = r
		l.Err = fmt.Errorf("%w (%s): its values could not be sealed when it was created; create the server again",
			ErrSealed, strings.Join(r.EnvNames, ", "))
		return l
	}
	if r.EnvSealed != "" {
		env, err := s.key.open(r.ServerID, r.EnvSealed)
		if err != nil {
			l.Record = r
			l.Err = fmt.Errorf("%w (%s): %v; create the server again", ErrSealed, strings.Join(r.EnvNames, ", "), err)
			return l
		}
		r.Env = env
	}
	l.Record = r
	return l
}

// checkID accepts what can be a file name: metamcp's ids are srv_ and hex.
func checkID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("server id %q: not a server id", id)
	}
	for _, c := range id {
		if !(c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return fmt.Errorf("server id %q: not a server id", id)
		}
	}
	return nil
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory: fsync'd, renamed over path, and the directory fsync'd.
func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing there
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !isUnsupported(err) {
		return err
	}
	return nil
}
