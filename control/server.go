package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/config"
	"github.com/metamcp/metamcp/templates"
)

// System is what the control plane needs of the actor system;
// *actors.System has it.
type System interface {
	Ask(msg actors.Message, timeout time.Duration) (any, error)
	Catalog() *templates.Catalog
	Config() *config.Config
}

var _ System = (*actors.System)(nil)

// Options start a Server.
type Options struct {
	System  System
	Metrics *Metrics // nil: a new one, fed by nothing but scrapes
	Log     zerolog.Logger
	Version string
	// Dir is the runtime directory; "" means RuntimeDir().
	Dir string
	// Addr is an optional loopback TCP address ("127.0.0.1:7070") to serve
	// the same API on; "" for none.
	Addr string
}

// Server is one instance's control endpoint. Start it after the actor
// system; Close it before the system stops.
type Server struct {
	sys     System
	metrics *Metrics
	log     zerolog.Logger
	dir     string
	http    *http.Server
	ctx     context.Context // ends at Close: every request and stream ends with it
	cancel  context.CancelFunc
	wg      sync.WaitGroup // the Serve goroutines

	mu     sync.Mutex
	record Record
	closed bool
}

// Start opens the socket (and the TCP address, if any), writes the
// instance record and serves the API until Close.
func Start(o Options) (*Server, error) {
	if o.Addr != "" {
		if err := checkLoopback(o.Addr); err != nil {
			return nil, err
		}
	}
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = RuntimeDir(); err != nil {
			return nil, err
		}
	}
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	_, _ = instancesIn(dir) // clean what killed instances left
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	s := &Server{sys: o.System, metrics: o.Metrics, log: o.Log, dir: dir}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.metrics.collector.list = s.listServers
	s.record = Record{PID: os.Getpid(), StartedAt: time.Now().UTC().Truncate(time.Millisecond),
		Version: o.Version, ConfigFile: o.System.Config().Source, Session: o.System.Config().Session,
		Socket: socketPath(dir, os.Getpid())}
	listeners, err := s.listen(o.Addr)
	if err != nil {
		s.cancel()
		return nil, err
	}
	if err := writeRecord(dir, s.record); err != nil {
		s.cancel()
		closeAll(listeners)
		_ = os.Remove(s.record.Socket)
		return nil, err
	}
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return s.ctx }}
	for _, l := range listeners {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error().Err(err).Str("addr", l.Addr().String()).Msg("control endpoint stopped")
			}
		}()
	}
	return s, nil
}

// listen opens the socket, mode 0600, and the TCP address if any.
func (s *Server) listen(addr string) ([]net.Listener, error) {
	sock := s.record.Socket
	_ = os.Remove(sock) // a leftover of an earlier process with our pid
	ul, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("opening control socket: %w", err)
	}
	if err := os.Chmod(sock, 0o600); err != nil && !noModes {
		_ = ul.Close()
		return nil, fmt.Errorf("opening control socket: %w", err)
	}
	if addr == "" {
		return []net.Listener{ul}, nil
	}
	tl, err := net.Listen("tcp", addr)
	if err != nil {
		_ = ul.Close()
		return nil, fmt.Errorf("opening control address: %w", err)
	}
	s.record.ControlAddr = tl.Addr().String()
	return []net.Listener{ul, tl}, nil
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		_ = l.Close()
	}
}

// CheckAddr checks a --control-addr value: host:port with a loopback host.
func CheckAddr(addr string) error { return checkLoopback(addr) }

// checkLoopback accepts host:port whose host is a loopback IP or
// "localhost".
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %q: %v", ErrNotLoopback, addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q (use 127.0.0.1:PORT or [::1]:PORT)", ErrNotLoopback, addr)
	}
	return nil
}

// Record returns the instance record as it is now.
func (s *Server) Record() Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.record
}

// SetClient records the MCP client's name and version (from initialize).
func (s *Server) SetClient(name, version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.record.ClientName, s.record.ClientVersion = name, version
	if err := writeRecord(s.dir, s.record); err != nil {
		s.log.Warn().Err(err).Msg("updating the instance record")
	}
}

// Close ends every request and stream, closes the listeners, removes the
// socket and the record, and waits for the server's goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if err != nil {
		err = s.http.Close()
	}
	s.wg.Wait()
	_ = os.Remove(s.record.Socket)
	if rerr := os.Remove(recordPath(s.dir, s.record.PID)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}

func (s *Server) listServers() ([]actors.ServerInfo, error) {
	res, err := s.sys.Ask(&actors.ListServers{}, scrapeTimeout)
	if err != nil {
		return nil, err
	}
	list, ok := res.(*actors.ServerList)
	if !ok {
		return nil, fmt.Errorf("unexpected reply %T", res)
	}
	return list.Servers, nil
}
