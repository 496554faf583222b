package eventstore

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// burstEnv makes the test binary the helper of TestSIGKILLDuringBurst: it
// records events until it is killed, printing "ack ID..." for each batch
// once it is committed.
const burstEnv = "EVENTSTORE_TEST_BURST"

func runBurst(dir string) {
	out := os.Stdout
	s, err := Open(Options{Path: filepath.Join(dir, FileName), FlushEvery: 5 * time.Millisecond, BatchSize: 64,
		OnFlush: func(batch []Event) {
			var b strings.Builder
			b.WriteString("ack")
			for _, e := range batch {
				b.WriteString(" " + strconv.FormatUint(e.ID, 10))
			}
			b.WriteString("\n")
			_, _ = io.WriteString(out, b.String()) // one write(2): in the pipe before the next batch
		}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Fprintln(out, "ready")
	pad := strings.Repeat("x", 200)
	for i := 0; ; i++ {
		e, _ := s.Append(Event{Event: "tool_executed", ServerID: fmt.Sprintf("srv_%d", i%7),
			Data: map[string]any{"i": i, "pad": pad}})
		if i%32 == 0 {
			_, _ = io.WriteString(out, "handed "+strconv.FormatUint(e.ID, 10)+"\n") // shown, maybe not written
			time.Sleep(200 * time.Microsecond)
		}
	}
}

// TestSIGKILLDuringBurst kills a process that is recording a burst of
// events, three times on the same store: each time the store opens, passes
// bbolt's consistency check, has no record that does not decode, and holds
// every id that was acknowledged as written.
func TestSIGKILLDuringBurst(t *testing.T) {
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	acked := map[uint64]bool{}
	for round, after := range []time.Duration{150 * time.Millisecond, 310 * time.Millisecond, 470 * time.Millisecond} {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), burstEnv+"="+dir)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		if l := <-lines; l != "ready" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("helper: %q", l)
		}
		time.Sleep(after)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		roundAcks, handed := 0, uint64(0)
		for l := range lines { // what it acknowledged before it died
			f := strings.Fields(l)
			if len(f) == 2 && f[0] == "handed" {
				if id, err := strconv.ParseUint(f[1], 10, 64); err == nil {
					handed = max(handed, id)
				}
				continue
			}
			if len(f) == 0 || f[0] != "ack" {
				t.Fatalf("helper wrote %q", l)
			}
			for _, s := range f[1:] {
				id, err := strconv.ParseUint(s, 10, 64)
				if err != nil {
					t.Fatalf("helper wrote %q", l)
				}
				acked[id] = true
				roundAcks++
			}
		}
		if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("helper: %v, want killed", err)
		}
		if roundAcks == 0 {
			t.Fatalf("round %d: nothing acknowledged in %s", round, after)
		}

		// The file as bbolt sees it, with no writer running.
		path := filepath.Join(dir, FileName)
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatalf("round %d: reopening after SIGKILL: %v", round, err)
		}
		stored := map[uint64]bool{}
		err = db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				return fmt.Errorf("consistency: %w", err)
			}
			return tx.Bucket(bucketEvents).ForEach(func(k, v []byte) error {
				h, err := decodeHeader(v)
				if err == nil {
					_, err = h.event(keyID(k))
				}
				if err != nil {
					return fmt.Errorf("id %d: %w", keyID(k), err)
				}
				stored[keyID(k)] = true
				return nil
			})
		})
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		// And as the store sees it.
		s, err := Open(Options{Path: path, LockTimeout: time.Second})
		if err != nil {
			t.Fatalf("round %d: opening the store after SIGKILL: %v", round, err)
		}
		if st := s.Stats(); st.Stored != int64(len(stored)) {
			t.Errorf("round %d: store counts %d events, the file has %d", round, st.Stored, len(stored))
		}
		// Ids the killed run handed out (and showed) but never wrote are
		// not given to another event.
		if e, _ := s.Append(Event{Event: "after_kill"}); e.ID <= handed {
			t.Errorf("round %d: the next run hands out id %d again (the killed run handed out up to %d)", round, e.ID, handed)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		missing := 0
		for id := range acked {
			if !stored[id] {
				missing++
			}
		}
		t.Logf("round %d: killed after %s: %d acknowledged this round, %d in all, %d stored", round, after,
			roundAcks, len(acked), len(stored))
		if missing > 0 || len(stored) < len(acked) {
			t.Fatalf("round %d: %d acknowledged ids missing; %d stored, %d acknowledged", round, missing, len(stored), len(acked))
		}
	}
}
