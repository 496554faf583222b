package specstore

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func rec(id string, at time.Time, env map[string]string) Record {
	return Record{ServerID: id, Name: "n-" + id, CreatedAt: at, Request: json.RawMessage(`{"template":"basic_calculator"}`), Env: env}
}

// Records written in one run are read back in the next, oldest first;
// deleted ones are gone.
func TestPutDeleteLoad(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	s.Put(rec("srv_b", t0.Add(time.Second), nil))
	s.Put(rec("srv_a", t0, nil))
	s.Put(rec("srv_c", t0.Add(2*time.Second), nil))
	s.Delete("srv_c")
	s.Delete("srv_never") // nothing to delete: not an error
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Failed() != 0 {
		t.Fatalf("%d writes failed", s.Failed())
	}
	got, err := open(t, dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ServerID != "srv_a" || got[1].ServerID != "srv_b" || got[0].Err != nil || got[1].Err != nil {
		t.Fatalf("loaded %+v", got)
	}
	if !got[0].CreatedAt.Equal(t0) || got[0].Name != "n-srv_a" || !sameJSON(got[0].Request, `{"template":"basic_calculator"}`) {
		t.Fatalf("record %+v", got[0].Record)
	}
}

// Env values never reach the disk in clear; they come back with the key,
// and a record whose key is gone says so.
func TestEnvSealed(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	secret := "sk-live-1234567890abcdef"
	s.Put(rec("srv_env", time.Now(), map[string]string{"API_KEY": secret, "REGION": "eu-west-1"}))
	s.Sync()
	b, err := os.ReadFile(filepath.Join(dir, "servers", "srv_env.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) || strings.Contains(string(b), "eu-west-1") {
		t.Fatalf("env value in clear:\n%s", b)
	}
	if !strings.Contains(string(b), `"API_KEY"`) {
		t.Fatalf("env names missing:\n%s", b)
	}
	for _, name := range []string{"servers/srv_env.json", "servers.key"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", name, fi.Mode(), err)
		}
	}
	_ = s.Close()

	got, err := open(t, dir).Load()
	if err != nil || len(got) != 1 || got[0].Err != nil {
		t.Fatalf("load: %+v %v", got, err)
	}
	if got[0].Env["API_KEY"] != secret || got[0].Env["REGION"] != "eu-west-1" {
		t.Fatalf("env %v", got[0].Env)
	}

	// A sealed env moved into another server's record does not open.
	var r Record
	_ = json.Unmarshal(b, &r)
	r.ServerID = "srv_other"
	moved, _ := json.Marshal(r)
	if err := os.WriteFile(filepath.Join(dir, "servers", "srv_other.json"), moved, 0o600); err != nil {
		t.Fatal(err)
	}
	// And without the key nothing opens.
	got, _ = open(t, dir).Load()
	if len(got) != 2 {
		t.Fatalf("loaded %+v", got)
	}
	for _, l := range got {
		if l.ServerID == "srv_other" && !errors.Is(l.Err, ErrSealed) {
			t.Fatalf("moved env opened: %+v", l)
		}
	}
	if err := os.Remove(filepath.Join(dir, "servers.key")); err != nil {
		t.Fatal(err)
	}
	got, _ = open(t, dir).Load()
	for _, l := range got {
		if !errors.Is(l.Err, ErrSealed) || !strings.Contains(l.Err.Error(), "API_KEY") {
			t.Fatalf("without the key: %+v", l)
		}
	}
}

// A bad file is reported, not skipped; a crash's temporary file is
// cleaned; a file name that is not an id is refused.
func TestLoadReportsBadRecords(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	sdir := filepath.Join(dir, "servers")
	files := map[string]string{
		"srv_torn.json":    `{"version":1,"server_id":"srv_to`,
		"srv_wrongid.json": `{"version":1,"server_id":"srv_x","request":{}}`,
		"srv_v9.json":      `{"version":9,"server_id":"srv_v9","request":{}}`,
		".tmp-123":         `half`,
		"srv_a.bak.json":   `{"version":1,"server_id":"srv_a","request":{}}`,
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(sdir, n), []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("loaded %d: %+v", len(got), got)
	}
	for _, l := range got {
		if !errors.Is(l.Err, ErrCorrupt) {
			t.Errorf("%s: %v", l.ServerID, l.Err)
		}
	}
	if _, err := os.Stat(filepath.Join(sdir, ".tmp-123")); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(sdir, "srv_a.bak.json.ignored")); err != nil {
		t.Errorf("a file named like no server id was not set aside: %v", err)
	}
	s.Put(Record{ServerID: "../escape", Request: json.RawMessage(`{}`)})
	s.Sync()
	if s.Failed() != 1 {
		t.Errorf("a bad id was written: failed %d", s.Failed())
	}
	if _, err := os.Stat(filepath.Join(dir, "escape.json")); !os.IsNotExist(err) {
		t.Errorf("escaped the directory: %v", err)
	}
}

// Sync returns after what was queued before it is on disk; after Close,
// Put and Sync do nothing and do not block.
func TestSyncAndClose(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	for i := range 50 {
		s.Put(rec("srv_"+string(rune('a'+i%26))+string(rune('a'+i/26)), time.Now(), nil))
	}
	s.Sync()
	entries, _ := os.ReadDir(filepath.Join(dir, "servers"))
	if len(entries) != 50 {
		t.Fatalf("after Sync: %d files", len(entries))
	}
	_ = s.Close()
	s.Put(rec("srv_late", time.Now(), nil))
	s.Sync()
	_ = s.Close()
	if _, err := os.Stat(filepath.Join(dir, "servers", "srv_late.json")); !os.IsNotExist(err) {
		t.Fatalf("written after Close: %v", err)
	}
}

func sameJSON(raw json.RawMessage, want string) bool {
	var a, b any
	return json.Unmarshal(raw, &a) == nil && json.Unmarshal([]byte(want), &b) == nil && reflect.DeepEqual(a, b)
}

// When the env cannot be sealed (no key can be made), the record is kept
// with the names only, and the next Load says the server cannot come back.
func TestUnsealableEnvKept(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "servers.key"), 0o700); err != nil { // not a file: no key
		t.Fatal(err)
	}
	s := open(t, dir)
	s.Put(rec("srv_nokey", time.Now(), map[string]string{"TOKEN": "t0p"}))
	s.Sync()
	if s.Failed() != 1 {
		t.Errorf("failed %d, want 1", s.Failed())
	}
	_ = s.Close()
	got, err := open(t, dir).Load()
	if err != nil || len(got) != 1 {
		t.Fatalf("load: %+v %v", got, err)
	}
	if !errors.Is(got[0].Err, ErrSealed) || !strings.Contains(got[0].Err.Error(), "TOKEN") ||
		!strings.Contains(got[0].Err.Error(), "could not be sealed") {
		t.Errorf("unsealed record: %v", got[0].Err)
	}
}
