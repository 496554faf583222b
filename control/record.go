package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Record describes one running instance: what metamcp-<pid>.json holds and
// what GET /v1/instance answers.
type Record struct {
	PID           int       `json:"pid"`
	StartedAt     time.Time `json:"started_at"`
	Version       string    `json:"version"`
	ConfigFile    string    `json:"config_file"`
	Session       string    `json:"session"`
	ClientName    string    `json:"client_name"`
	ClientVersion string    `json:"client_version"`
	Socket        string    `json:"socket"`
	ControlAddr   string    `json:"control_addr,omitempty"`
}

const filePrefix = "metamcp-"

func socketPath(dir string, pid int) string {
	return filepath.Join(dir, filePrefix+strconv.Itoa(pid)+".sock")
}

func recordPath(dir string, pid int) string {
	return filepath.Join(dir, filePrefix+strconv.Itoa(pid)+".json")
}

// writeRecord replaces the record atomically (write, then rename), so that
// a reader never sees half of it.
func writeRecord(dir string, r Record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".record-*")
	if err != nil {
		return fmt.Errorf("writing instance record: %w", err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), recordPath(dir, r.PID))
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing instance record: %w", werr)
	}
	return nil
}

func readRecord(path string) (Record, error) {
	var r Record
	data, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Instances lists the live instances in the runtime directory, oldest
// first, after removing the files of stale ones. A missing directory means
// none.
func Instances() ([]Record, error) {
	dir, err := RuntimeDir()
	if err != nil {
		return nil, err
	}
	return instancesIn(dir)
}

func instancesIn(dir string) ([]Record, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading runtime directory: %w", err)
	}
	if err := checkPrivate(dir); err != nil {
		return nil, err
	}
	var live []Record
	for _, e := range entries {
		pid, ok := instancePID(e.Name())
		if !ok || (!strings.HasSuffix(e.Name(), ".sock") && fileExists(socketPath(dir, pid))) {
			continue // each instance once: by its socket when it has one
		}
		if r, ok := liveInstance(dir, pid); ok {
			live = append(live, r)
		}
	}
	sort.Slice(live, func(i, j int) bool { return live[i].StartedAt.Before(live[j].StartedAt) })
	return live, nil
}

// instancePID reads the pid of metamcp-<pid>.sock or metamcp-<pid>.json.
func instancePID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, filePrefix)
	if !ok {
		return 0, false
	}
	rest, ok = strings.CutSuffix(rest, ".sock")
	if !ok {
		if rest, ok = strings.CutSuffix(rest, ".json"); !ok {
			return 0, false
		}
	}
	pid, err := strconv.Atoi(rest)
	return pid, err == nil && pid > 0
}

// liveInstance returns the record of the instance pid when it is alive, and
// removes its files when it is stale: its process is gone, or its socket is
// missing or refuses connections. An instance whose socket exists but has
// no record yet (it is starting) is skipped without removing anything.
func liveInstance(dir string, pid int) (Record, bool) {
	sock, rec := socketPath(dir, pid), recordPath(dir, pid)
	if processGone(pid) || refused(sock) {
		_ = os.Remove(sock)
		_ = os.Remove(rec)
		return Record{}, false
	}
	r, err := readRecord(rec)
	if err != nil || r.PID != pid {
		return Record{}, false
	}
	return r, true
}

// refused says whether the socket is missing or nothing accepts
// connections on it. A socket that does not answer in time (a busy
// instance) is not refused.
func refused(sock string) bool {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, os.ErrNotExist)
	}
	_ = c.Close()
	return false
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
