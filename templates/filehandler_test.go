package templates

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mark3labs/mcp-go/client"
)

// fileClient returns a client for a file handler confined to a fresh base
// directory, and that directory.
func fileClient(t *testing.T, opts Options) (*client.Client, string) {
	t.Helper()
	base := filepath.Join(t.TempDir(), "base")
	opts.BaseDir = base
	return newClient(t, FileHandler, opts), base
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFileHandlerNeedsBaseDir(t *testing.T) {
	if _, err := NewServer(FileHandler, Options{}); !errors.Is(err, ErrBaseDirRequired) {
		t.Errorf("empty BaseDir: error = %v, want ErrBaseDirRequired", err)
	}
	notDir := filepath.Join(t.TempDir(), "file")
	writeTestFile(t, notDir, "x")
	if _, err := NewServer(FileHandler, Options{BaseDir: notDir}); err == nil {
		t.Error("BaseDir is a regular file: NewServer succeeded")
	}
	if _, err := NewServer(FileHandler, Options{BaseDir: filepath.Join(notDir, "sub")}); err == nil {
		t.Error("BaseDir below a regular file: NewServer succeeded")
	}
}

func TestFileHandlerCreatesBaseDir(t *testing.T) {
	_, base := fileClient(t, Options{})
	info, err := os.Stat(base)
	if err != nil {
		t.Fatal(err)
	}
	if !info.IsDir() || info.Mode().Perm()&0o077 != 0 {
		t.Errorf("base directory mode = %v, want a directory without group/other access", info.Mode())
	}
}

func TestWriteReadList(t *testing.T) {
	c, base := fileClient(t, Options{})

	var w writeResult
	ok(t, call(t, c, "write_file", map[string]any{"path": "notes/today.txt", "content": "héllo\n"}), &w)
	if w != (writeResult{Path: "notes/today.txt", BytesWritten: 7}) {
		t.Errorf("write_file = %+v", w)
	}
	if data, err := os.ReadFile(filepath.Join(base, "notes", "today.txt")); err != nil || string(data) != "héllo\n" {
		t.Fatalf("file on disk = %q, %v", data, err)
	}

	var r readResult
	ok(t, call(t, c, "read_file", map[string]any{"path": "./notes/../notes/today.txt"}), &r)
	if r != (readResult{Path: "notes/today.txt", Content: "héllo\n", Encoding: "utf-8", Size: 7}) {
		t.Errorf("read_file = %+v", r)
	}

	ok(t, call(t, c, "write_file", map[string]any{"path": "notes/today.txt", "content": "short"}), &w)
	ok(t, call(t, c, "read_file", map[string]any{"path": "notes/today.txt"}), &r)
	if r.Content != "short" || r.Size != 5 {
		t.Errorf("after overwrite read_file = %+v, want short", r)
	}

	writeTestFile(t, filepath.Join(base, "a.bin"), "\xff\x00\xfe")
	if err := os.Symlink("notes/today.txt", filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	var l listResult
	ok(t, call(t, c, "list_files", map[string]any{}), &l)
	notes, err := os.Lstat(filepath.Join(base, "notes"))
	if err != nil {
		t.Fatal(err)
	}
	want := []fileEntry{
		{Name: "a.bin", Type: "file", Size: 3},
		{Name: "link", Type: "symlink", Size: int64(len("notes/today.txt"))},
		{Name: "notes", Type: "directory", Size: notes.Size()},
	}
	if l.Directory != "." || l.Count != 3 || l.Truncated || !slices.Equal(l.Files, want) {
		t.Errorf("list_files = %+v, want %+v", l, want)
	}

	ok(t, call(t, c, "list_files", map[string]any{"directory": "notes"}), &l)
	if l.Directory != "notes" || l.Count != 1 || l.Files[0] != (fileEntry{Name: "today.txt", Type: "file", Size: 5}) {
		t.Errorf("list_files(notes) = %+v", l)
	}

	ok(t, call(t, c, "read_file", map[string]any{"path": "link"}), &r)
	if r.Content != "short" {
		t.Errorf("read through an inside symlink = %+v", r)
	}

	ok(t, call(t, c, "read_file", map[string]any{"path": "a.bin"}), &r)
	if r.Encoding != "base64" || r.Content != base64.StdEncoding.EncodeToString([]byte("\xff\x00\xfe")) || r.Size != 3 {
		t.Errorf("read_file(binary) = %+v, want base64", r)
	}
}

func TestListEmptyDirectory(t *testing.T) {
	c, _ := fileClient(t, Options{})
	res := call(t, c, "list_files", map[string]any{"directory": "."})
	if got := text(t, res); got != `{"directory":".","files":[],"count":0,"truncated":false}` {
		t.Errorf("text = %s, want files as an empty array", got)
	}
}

func TestFileHandlerRefusesEscapes(t *testing.T) {
	c, base := fileClient(t, Options{})
	outside := filepath.Join(filepath.Dir(base), "outside")
	writeTestFile(t, filepath.Join(outside, "secret.txt"), "secret")
	if err := os.Symlink(outside, filepath.Join(base, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside/secret.txt", filepath.Join(base, "secret-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside/new.txt", filepath.Join(base, "dangling")); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		tool string
		args map[string]any
	}{
		{"read_file", map[string]any{"path": "../outside/secret.txt"}},
		{"read_file", map[string]any{"path": "notes/../../outside/secret.txt"}},
		{"read_file", map[string]any{"path": "/etc/passwd"}},
		{"read_file", map[string]any{"path": filepath.Join(base, "x")}},
		{"read_file", map[string]any{"path": "secret-link"}},
		{"read_file", map[string]any{"path": "out/secret.txt"}},
		{"write_file", map[string]any{"path": "../x", "content": "x"}},
		{"write_file", map[string]any{"path": "/tmp/x", "content": "x"}},
		{"write_file", map[string]any{"path": "out/new.txt", "content": "x"}},
		{"write_file", map[string]any{"path": "out/sub/new.txt", "content": "x"}},
		{"write_file", map[string]any{"path": "dangling", "content": "x"}},
		{"list_files", map[string]any{"directory": ".."}},
		{"list_files", map[string]any{"directory": "/"}},
		{"list_files", map[string]any{"directory": "out"}},
	} {
		t.Run(tc.tool+" "+tc.args[pathKey(tc.tool)].(string), func(t *testing.T) {
			toolError(t, call(t, c, tc.tool, tc.args), "escapes the base directory")
		})
	}
	entries, err := os.ReadDir(outside)
	if err != nil || len(entries) != 1 {
		t.Errorf("outside directory now holds %v (%v), want only secret.txt", entries, err)
	}
}

func pathKey(tool string) string {
	if tool == "list_files" {
		return "directory"
	}
	return "path"
}

func TestFileHandlerErrors(t *testing.T) {
	c, base := fileClient(t, Options{MaxFileBytes: 10})
	writeTestFile(t, filepath.Join(base, "big.txt"), "0123456789A")
	writeTestFile(t, filepath.Join(base, "dir", "f.txt"), "x")
	for _, tc := range []struct {
		name string
		tool string
		args map[string]any
		want []string
	}{
		{"read missing", "read_file", map[string]any{"path": "nope.txt"}, []string{`"nope.txt" does not exist`}},
		{"read directory", "read_file", map[string]any{"path": "dir"}, []string{"not a regular file", "list_files"}},
		{"read too large", "read_file", map[string]any{"path": "big.txt"}, []string{"file too large", "11 bytes", "limit is 10"}},
		{"read empty path", "read_file", map[string]any{"path": ""}, []string{"invalid path", "empty"}},
		{"read no path", "read_file", map[string]any{}, []string{"missing required argument", `"path"`}},
		{"write too large", "write_file", map[string]any{"path": "w.txt", "content": "0123456789A"}, []string{"file too large"}},
		{"write no content", "write_file", map[string]any{"path": "w.txt"}, []string{"missing required argument", `"content"`}},
		{"write base dir", "write_file", map[string]any{"path": ".", "content": "x"}, []string{"invalid path"}},
		{"write onto directory", "write_file", map[string]any{"path": "dir", "content": "x"}, []string{`"dir"`, "is a directory"}},
		{"write below a file", "write_file", map[string]any{"path": "big.txt/x", "content": "x"}, []string{`"big.txt/x"`, "a file is in the way"}},
		{"list missing", "list_files", map[string]any{"directory": "nope"}, []string{`"nope" does not exist`}},
		{"list a file", "list_files", map[string]any{"directory": "big.txt"}, []string{`"big.txt"`, "not a directory"}},
		{"list bad type", "list_files", map[string]any{"directory": 3}, []string{`"directory"`, "must be a string"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toolError(t, call(t, c, tc.tool, tc.args), tc.want...)
		})
	}
}
