package templates

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// maxListEntries caps the entries list_files returns for one directory.
const maxListEntries = 10000

// readResult is the result of read_file.
type readResult struct {
	Path     string `json:"path" jsonschema:"the path that was read, relative to the base directory"`
	Content  string `json:"content" jsonschema:"the file content: text, or base64 when encoding is base64"`
	Encoding string `json:"encoding" jsonschema:"enum=utf-8,enum=base64"`
	Size     int64  `json:"size" jsonschema:"file size in bytes"`
}

// writeResult is the result of write_file.
type writeResult struct {
	Path         string `json:"path" jsonschema:"the path that was written, relative to the base directory"`
	BytesWritten int    `json:"bytes_written" jsonschema:"bytes written"`
}

// listResult is the result of list_files.
type listResult struct {
	Directory string      `json:"directory" jsonschema:"the directory that was listed, relative to the base directory"`
	Files     []fileEntry `json:"files" jsonschema:"the entries, sorted by name"`
	Count     int         `json:"count" jsonschema:"number of entries in files"`
	Truncated bool        `json:"truncated" jsonschema:"true when the directory has more entries than were returned"`
}

// fileEntry is one directory entry of a listResult.
type fileEntry struct {
	Name string `json:"name"`
	Type string `json:"type" jsonschema:"enum=file,enum=directory,enum=symlink,enum=other"`
	Size int64  `json:"size" jsonschema:"size in bytes (for a symlink: of the link itself)"`
}

// fileHandler serves file_handler_template. Every access goes through root,
// so no path, however spelled and whatever symlinks it crosses, reaches
// outside the base directory.
type fileHandler struct {
	root       *os.Root
	maxBytes   int64
	escapesErr error // the error os.Root wraps when a path escapes it
}

// newFileHandlerServer builds file_handler_template: read_file, write_file
// and list_files confined to Options.BaseDir, which it creates (mode 0700)
// when missing. The base directory stays open for the life of the process.
func newFileHandlerServer(o Options) (*server.MCPServer, error) {
	h, err := openFileHandler(o)
	if err != nil {
		return nil, err
	}
	return newMCPServer(FileHandler,
		server.ServerTool{Tool: readFileTool(o), Handler: handle(h.readFile)},
		server.ServerTool{Tool: writeFileTool(o), Handler: handle(h.writeFile)},
		server.ServerTool{Tool: listFilesTool(), Handler: handle(h.listFiles)},
	), nil
}

// openFileHandler opens (creating if needed) the base directory as a root.
func openFileHandler(o Options) (*fileHandler, error) {
	if o.BaseDir == "" {
		return nil, ErrBaseDirRequired
	}
	if err := os.MkdirAll(o.BaseDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating base directory: %w", err)
	}
	root, err := os.OpenRoot(o.BaseDir)
	if err != nil {
		return nil, fmt.Errorf("opening base directory: %w", err)
	}
	return &fileHandler{root: root, maxBytes: o.MaxFileBytes, escapesErr: probeEscapeError(root)}, nil
}

// probeEscapeError returns the sentinel os.Root wraps in the error for a path
// that leaves the root. The os package does not export it.
func probeEscapeError(root *os.Root) error {
	_, err := root.Lstat("..")
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return nil
}

func readFileTool(o Options) mcp.Tool {
	return mcp.NewTool("read_file",
		mcp.WithDescription(fmt.Sprintf("Read a file inside the base directory. Text is returned as is "+
			"(encoding utf-8); other content as base64 (encoding base64). Files over %d bytes are refused.",
			o.MaxFileBytes)),
		mcp.WithString("path", mcp.Required(),
			mcp.Description("Path relative to the base directory, e.g. notes/todo.txt. Absolute paths and paths leaving the base directory are refused.")),
		mcp.WithOutputSchema[readResult](),
		readOnly(false),
	)
}

func writeFileTool(o Options) mcp.Tool {
	return mcp.NewTool("write_file",
		mcp.WithDescription(fmt.Sprintf("Write text to a file inside the base directory, replacing it if it "+
			"exists and creating missing parent directories. At most %d bytes.", o.MaxFileBytes)),
		mcp.WithString("path", mcp.Required(),
			mcp.Description("Path relative to the base directory. Absolute paths and paths leaving the base directory are refused.")),
		mcp.WithString("content", mcp.Required(), mcp.Description("The text to write (UTF-8).")),
		mcp.WithOutputSchema[writeResult](),
		mcp.WithDestructiveHintAnnotation(true),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
	)
}

func listFilesTool() mcp.Tool {
	return mcp.NewTool("list_files",
		mcp.WithDescription(fmt.Sprintf("List a directory inside the base directory: name, type "+
			"(file, directory, symlink or other) and size of each entry, sorted by name, at most %d entries.",
			maxListEntries)),
		mcp.WithString("directory", mcp.DefaultString("."),
			mcp.Description(`Directory relative to the base directory; "." (the default) is the base directory itself.`)),
		mcp.WithOutputSchema[listResult](),
		readOnly(false),
	)
}

// readFile reads a regular file of at most maxBytes.
func (h *fileHandler) readFile(_ context.Context, in args) (any, error) {
	path, err := h.pathArg(in, "path")
	if err != nil {
		return nil, err
	}
	data, err := h.readCapped(path)
	if err != nil {
		return nil, err
	}
	res := readResult{Path: path, Content: string(data), Encoding: "utf-8", Size: int64(len(data))}
	if !utf8.Valid(data) {
		res.Content, res.Encoding = base64.StdEncoding.EncodeToString(data), "base64"
	}
	return res, nil
}

// readCapped reads the regular file at path, refusing files over maxBytes.
func (h *fileHandler) readCapped(path string) ([]byte, error) {
	info, err := h.root.Stat(path)
	if err != nil {
		return nil, h.fsError(path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%q: %w (use list_files for directories)", path, errNotRegular)
	}
	if info.Size() > h.maxBytes {
		return nil, fmt.Errorf("%q: %w: %d bytes, the limit is %d", path, errTooLarge, info.Size(), h.maxBytes)
	}
	f, err := h.root.Open(path)
	if err != nil {
		return nil, h.fsError(path, err)
	}
	defer f.Close()
	data, truncated, err := readCapped(f, h.maxBytes)
	if err != nil {
		return nil, h.fsError(path, err)
	}
	if truncated {
		return nil, fmt.Errorf("%q: %w: over %d bytes", path, errTooLarge, h.maxBytes)
	}
	return data, nil
}

// writeFile writes content to path, creating parent directories.
func (h *fileHandler) writeFile(_ context.Context, in args) (any, error) {
	path, err := h.pathArg(in, "path")
	if err != nil {
		return nil, err
	}
	content, err := in.str("content")
	if err != nil {
		return nil, err
	}
	if int64(len(content)) > h.maxBytes {
		return nil, fmt.Errorf("%q: %w: %d bytes, the limit is %d", path, errTooLarge, len(content), h.maxBytes)
	}
	if path == "." {
		return nil, fmt.Errorf("%w: write_file needs a file path, not the base directory", errPath)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := h.root.MkdirAll(dir, 0o755); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return nil, fmt.Errorf("%q: cannot create parent directory %q: a file is in the way", path, dir)
			}
			return nil, h.fsError(path, err)
		}
	}
	if err := h.root.WriteFile(path, []byte(content), 0o644); err != nil {
		return nil, h.fsError(path, err)
	}
	return writeResult{Path: path, BytesWritten: len(content)}, nil
}

// listFiles lists one directory.
func (h *fileHandler) listFiles(_ context.Context, in args) (any, error) {
	raw, err := in.optStr("directory", ".")
	if err != nil {
		return nil, err
	}
	dir, err := localPath(raw, "directory")
	if err != nil {
		return nil, err
	}
	f, err := h.root.Open(dir)
	if err != nil {
		return nil, h.fsError(dir, err)
	}
	defer f.Close()
	entries, err := f.ReadDir(maxListEntries + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, h.fsError(dir, err)
	}
	res := listResult{Directory: dir, Files: []fileEntry{}}
	if len(entries) > maxListEntries {
		entries, res.Truncated = entries[:maxListEntries], true
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	for _, e := range entries {
		res.Files = append(res.Files, describeEntry(e))
	}
	res.Count = len(res.Files)
	return res, nil
}

// describeEntry reports a directory entry without following symlinks.
func describeEntry(e fs.DirEntry) fileEntry {
	fe := fileEntry{Name: e.Name(), Type: "other"}
	switch t := e.Type(); {
	case t&fs.ModeSymlink != 0:
		fe.Type = "symlink"
	case t.IsDir():
		fe.Type = "directory"
	case t.IsRegular():
		fe.Type = "file"
	}
	if info, err := e.Info(); err == nil {
		fe.Size = info.Size()
	}
	return fe
}

// pathArg returns the required path argument name, checked by localPath.
func (h *fileHandler) pathArg(in args, name string) (string, error) {
	p, err := in.str(name)
	if err != nil {
		return "", err
	}
	return localPath(p, name)
}

// localPath returns p cleaned, after refusing empty, absolute and lexically
// escaping paths. Symlinks that escape are refused later, by os.Root itself.
func localPath(p, name string) (string, error) {
	if strings.TrimSpace(p) == "" {
		return "", fmt.Errorf("%w: argument %q is empty", errPath, name)
	}
	if filepath.IsAbs(p) || !filepath.IsLocal(p) {
		return "", fmt.Errorf("%q: %w", p, errPathEscapes)
	}
	return filepath.Clean(p), nil
}

// fsError rewrites a filesystem error with the path as the caller gave it,
// never the base directory's location.
func (h *fileHandler) fsError(path string, err error) error {
	switch {
	case h.escapesErr != nil && errors.Is(err, h.escapesErr),
		strings.Contains(err.Error(), "path escapes from parent"):
		return fmt.Errorf("%q: %w (through a symbolic link)", path, errPathEscapes)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%q does not exist (use list_files to see what is there)", path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%q: permission denied", path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%q: %v", path, pe.Err)
	}
	return fmt.Errorf("%q: %v", path, err)
}
