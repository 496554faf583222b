//go:build linux

package actors

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// The test binary doubles as a child MCP server: with METAMCP_FAKE_CHILD set
// it runs one of the behaviours below instead of the tests (the re-exec
// helper-process pattern).
const fakeChildEnv = "METAMCP_FAKE_CHILD"

func runFakeChild(mode string) {
	if f := os.Getenv(fakePIDFileEnv); f != "" {
		appendPID(f, os.Getpid())
	}
	switch mode {
	case "ok":
		serveFake()
	case "die_at_start":
		fmt.Fprintln(os.Stderr, "fatal: no config found")
		os.Exit(1)
	case "slow_init": // answers, but only after a while
		time.Sleep(400 * time.Millisecond)
		serveFake()
	case "hang_init":
		fmt.Fprintln(os.Stderr, "thinking about it")
		time.Sleep(time.Hour)
	case "once":
		// Works the first time it is started, dies at start afterwards: a
		// server whose restart keeps failing.
		marker := os.Getenv("METAMCP_FAKE_MARKER")
		if _, err := os.Stat(marker); err == nil {
			fmt.Fprintln(os.Stderr, "fatal: corrupted state")
			os.Exit(2)
		}
		_ = os.WriteFile(marker, []byte("started"), 0o600)
		serveFake()
	case "third_time":
		// Serves on its first start, dies during the handshake of the
		// second (after a while, without answering initialize), serves
		// again from the third on.
		thirdTime(os.Getenv("METAMCP_FAKE_MARKER"))
		serveFake()
	case "garbage_stdout":
		garbageStdout()
	case "garbage_after_init":
		serveFake(garbleTool())
	case "stderr_flood":
		go floodStderr(os.Getenv(fakeFloodEnv))
		serveFake()
	case "ignore_sigterm":
		ignoreSIGTERM()
	case "grandchild":
		serveWithGrandchild(os.Getenv(fakeGroupEnv))
	case "sleeper":
		time.Sleep(time.Hour)
	case "deaf_on_usr1":
		serveDeafOnUSR1()
	default:
		fmt.Fprintln(os.Stderr, "unknown fake child mode", mode)
		os.Exit(99)
	}
	os.Exit(0)
}

// hog holds the memory the "hog" tool allocates.
var hog []byte

func serveFake(extra ...server.ServerTool) {
	_ = server.ServeStdio(newFakeServer(extra...))
}

// newFakeServer is the fake MCP server: the common tools and extra ones.
func newFakeServer(extra ...server.ServerTool) *server.MCPServer {
	s := server.NewMCPServer("fake", "1.0", server.WithToolCapabilities(true))
	if len(extra) > 0 {
		s.AddTools(extra...)
	}
	s.AddTool(mcp.NewTool("echo", mcp.WithString("text")), func(_ context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText(r.GetString("text", "")), nil
	})
	s.AddTool(mcp.NewTool("sleep", mcp.WithNumber("ms")), func(ctx context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		select {
		case <-time.After(time.Duration(r.GetFloat("ms", 0)) * time.Millisecond):
			return mcp.NewToolResultText("slept"), nil
		case <-ctx.Done():
			fmt.Fprintln(os.Stderr, "sleep cancelled by client")
			return nil, ctx.Err()
		}
	})
	s.AddTool(mcp.NewTool("fail"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultError("this tool always fails"), nil
	})
	s.AddTool(mcp.NewTool("crash"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		fmt.Fprintln(os.Stderr, "boom: crashing on purpose")
		os.Exit(3)
		return nil, nil
	})
	s.AddTool(mcp.NewTool("exit"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		fmt.Fprintln(os.Stderr, "done: exiting cleanly")
		os.Exit(0)
		return nil, nil
	})
	s.AddTool(mcp.NewTool("hog", mcp.WithNumber("mb")), func(ctx context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		hog = make([]byte, int(r.GetFloat("mb", 0))<<20)
		for i := 0; i < len(hog); i += 4096 { // touch every page: resident, not just reserved
			hog[i] = 1
		}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	s.AddTool(mcp.NewTool("pid"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText(strconv.Itoa(os.Getpid())), nil
	})
	return s
}

// Settings of the fake child modes, passed in its environment.
const (
	fakePIDFileEnv = "METAMCP_FAKE_PIDFILE"  // any mode appends "PID START" to this file
	fakeFloodEnv   = "METAMCP_FAKE_FLOOD_MB" // stderr_flood: megabytes to write
	fakeGroupEnv   = "METAMCP_FAKE_GROUP"    // grandchild: "same", "pgid" or "setsid"
)

// floodDone starts the last line stderr_flood writes.
const floodDone = "flood done"

func appendPID(path string, pid int) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pid file:", err)
		os.Exit(98)
	}
	st, _ := readProcStat(pid)
	fmt.Fprintln(f, pid, st.start) // the start time tells a reused pid apart
	f.Close()
}

// garbageStdout is a program that is no MCP server: it prints a banner and
// answers every line of input with prose, on stdout, until stdin ends.
func garbageStdout() {
	fmt.Fprintln(os.Stderr, "garbage: starting up")
	fmt.Println("Welcome to NotAnMCPServer 0.1")
	fmt.Println("Listening on stdio... (type HELP)")
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if len(line) > 20 {
			line = line[:20]
		}
		fmt.Printf("?? unknown command: %q\n", line)
	}
}

// garbleTool writes non-JSON to stdout in the middle of the session, like a
// server that prints a traceback to the wrong stream, and then, as its
// "then" argument says, answers normally ("answer"), writes one huge line
// and then answers ("huge"), never answers ("hang") or exits with code 5
// ("exit").
func garbleTool() server.ServerTool {
	return server.ServerTool{
		Tool: mcp.NewTool("garble", mcp.WithString("then"), mcp.WithNumber("mb"), mcp.WithBoolean("json")),
		Handler: func(ctx context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			// One write, under PIPE_BUF, so it cannot interleave with the
			// server's own lines.
			_, _ = os.Stdout.WriteString("Traceback (most recent call last):\n  File \"server.py\", line 1\n" +
				"\x00\xff\xfe not json {{{\n{\"jsonrpc\":\"2.0\",\"id\":\n")
			switch then := r.GetString("then", "answer"); then {
			case "huge":
				// One line of "mb" MiB, then the answer on a line of its
				// own. With "json" the line is a JSON-RPC notification.
				mb := int(r.GetFloat("mb", 64))
				if r.GetBool("json", false) {
					_, _ = os.Stdout.WriteString(`{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"`)
				}
				chunk := []byte(strings.Repeat("x", 1<<20))
				for range mb {
					_, _ = os.Stdout.Write(chunk)
				}
				if r.GetBool("json", false) {
					_, _ = os.Stdout.WriteString(`"}}`)
				}
				_, _ = os.Stdout.WriteString("\n")
			case "hang":
				fmt.Fprintln(os.Stderr, "garble: hanging")
				<-ctx.Done()
				return nil, ctx.Err()
			case "exit":
				fmt.Fprintln(os.Stderr, "garble: exiting after garbage")
				os.Exit(5)
			}
			return mcp.NewToolResultText("answered after garbage"), nil
		},
	}
}

// floodStderr writes mb megabytes to stderr as fast as the reader takes
// them: mostly 1 KiB lines, every 64th line 64 KiB long, ending with three
// 256 KiB lines and a floodDone line.
func floodStderr(mb string) {
	n, err := strconv.Atoi(mb)
	if err != nil || n <= 0 {
		n = 50
	}
	total := int64(n) << 20
	short := []byte(strings.Repeat("s", 1023) + "\n")
	long := []byte(strings.Repeat("L", 64<<10-1) + "\n")
	huge := []byte(strings.Repeat("H", 256<<10-1) + "\n")
	var written int64
	for i := 0; written < total; i++ {
		line := short
		if i%64 == 63 {
			line = long
		}
		k, err := os.Stderr.Write(line)
		if err != nil {
			os.Exit(97)
		}
		written += int64(k)
	}
	for range 3 {
		k, _ := os.Stderr.Write(huge)
		written += int64(k)
	}
	fmt.Fprintf(os.Stderr, "%s %d bytes\n", floodDone, written)
}

// ignoreSIGTERM serves without reacting to SIGTERM, and keeps running when
// stdin ends: only SIGKILL stops it.
func ignoreSIGTERM() {
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	// Not ServeStdio: it installs its own SIGTERM handler.
	err := server.NewStdioServer(newFakeServer()).Listen(context.Background(), os.Stdin, os.Stdout)
	fmt.Fprintln(os.Stderr, "stdin ended:", err, "- staying up")
	time.Sleep(time.Hour)
}

// serveWithGrandchild starts a sleeper (this binary again) that shares its
// stderr, then serves with a tool "grandchild" answering the sleeper's pid.
// group is where the sleeper goes: "same" (this process's group), "pgid"
// (a new group) or "setsid" (a new session).
func serveWithGrandchild(group string) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fakeChildEnv+"=sleeper") // it records its pid too
	cmd.Stderr = os.Stderr
	switch group {
	case "pgid":
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	case "setsid":
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "starting the grandchild:", err)
		os.Exit(96)
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	fmt.Fprintln(os.Stderr, "grandchild started:", pid)
	serveFake(server.ServerTool{
		Tool: mcp.NewTool("grandchild"),
		Handler: func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(pid), nil
		},
	})
}

// thirdTime counts the starts in a marker file and, on the second, waits
// 300 ms and dies before answering anything.
func thirdTime(marker string) {
	prev, _ := os.ReadFile(marker)
	_ = os.WriteFile(marker, append(prev, 'x'), 0o600)
	if len(prev) == 1 {
		fmt.Fprintln(os.Stderr, "fatal: dying in the handshake")
		time.Sleep(300 * time.Millisecond)
		os.Exit(3)
	}
}
