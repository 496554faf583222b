//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestBuiltinsBinary: a built-in template's child is metamcp-templates when
// it lies next to metamcp (make build puts it there), else metamcp itself
// (`metamcp template run`); either answers the same.
func TestBuiltinsBinary(t *testing.T) {
	t.Parallel()
	want := metamcpBin
	if p := filepath.Join(filepath.Dir(metamcpBin), "metamcp-templates"); fileExists(p) {
		want = p
	}
	s := startServe(t, serveOpts{})
	id, pid := createFrom(t, s, "calc", "basic_calculator", nil)
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		t.Fatal(err)
	}
	if exe != want {
		t.Errorf("the child runs %s, want %s", exe, want)
	}
	if r := executeOK(t, s, id, "add", map[string]any{"a": 15, "b": 27}); jnum(t, r, "result") != 42 {
		t.Errorf("add through %s: %s", filepath.Base(exe), jsonText(r))
	}
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
