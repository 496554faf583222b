//go:build linux

package child

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"time"
)

// ownerVar marks every process a metamcp instance starts, and everything
// those start (the environment is inherited): "PID:START:NONCE" of the
// instance, START being its start time in clock ticks after boot (so that a
// reused pid is not taken for the owner) and NONCE telling apart two
// instances in one process (tests run many).
const ownerVar = "METAMCP_OWNER"

// NewOwnerMark returns a fresh mark for one instance, or "" when this
// process's start time cannot be read.
func NewOwnerMark() string {
	start, ok := startTime(os.Getpid())
	if !ok {
		return ""
	}
	var nonce [4]byte
	_, _ = rand.Read(nonce[:])
	return strconv.Itoa(os.Getpid()) + ":" + strconv.FormatUint(start, 10) + ":" + hex.EncodeToString(nonce[:])
}

// killLeftBehind kills, after a child has exited, every process that still
// carries its mark: descendants that left its process group (setsid) or
// were orphaned by a double fork. A few passes, for those that fork while
// being killed.
func killLeftBehind(mark string) {
	if mark == "" {
		return
	}
	for range 5 {
		if killMarked(func(owner []byte) bool { return string(owner) == mark }) == 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func ownerEnv(mark string) string {
	if mark == "" {
		return ""
	}
	return ownerVar + "=" + mark
}

// SweepOrphans kills the processes an earlier metamcp started that outlived
// it: those whose METAMCP_OWNER names an instance that is no longer
// running. The guardian (and the shim) make this rare; this is the net
// under them. It returns how many processes it killed.
func SweepOrphans() int {
	return killMarked(func(owner []byte) bool {
		pid, start, ok := parseOwner(owner)
		return ok && !alive(pid, start)
	})
}

// ownerMark finds the value of METAMCP_OWNER in an environ block.
func ownerMark(environ []byte) ([]byte, bool) {
	for _, kv := range bytes.Split(environ, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte(ownerVar+"=")); ok {
			return v, true
		}
	}
	return nil, false
}

func parseOwner(v []byte) (int, uint64, bool) {
	p, rest, ok := bytes.Cut(v, []byte(":"))
	if !ok {
		return 0, 0, false
	}
	s, _, _ := bytes.Cut(rest, []byte(":"))
	pid, err1 := strconv.Atoi(string(p))
	start, err2 := strconv.ParseUint(string(s), 10, 64)
	return pid, start, err1 == nil && err2 == nil
}

func alive(pid int, start uint64) bool {
	got, ok := startTime(pid)
	return ok && got == start
}

// startTime reads field 22 of /proc/PID/stat.
func startTime(pid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 20 || string(f[0]) == "Z" {
		return 0, false
	}
	v, err := strconv.ParseUint(string(f[19]), 10, 64)
	return v, err == nil
}

func readDirNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}
