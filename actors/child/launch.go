package child

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// command builds the process to fork: the child itself, or the shim
// running it. With a shim, pidR is the read end of the pipe on which the
// shim reports the child's pid.
func (c *Conn) command() (cmd *exec.Cmd, pidR *os.File, err error) {
	env := c.opts.Env
	if c.opts.Owner != "" {
		// Its own mark, under the instance's: what it leaves behind when it
		// exits can be found by it, even outside its process group.
		c.mark = c.opts.Owner + "/" + strconv.FormatUint(childSeq.Add(1), 10)
		env = append(slices.Clip(env), ownerEnv(c.mark))
	}
	if !c.shimmed() {
		cmd = exec.Command(c.opts.Command, c.opts.Args...)
		cmd.Env, cmd.Dir = env, c.opts.Dir
		prepare(cmd)
		return cmd, nil, nil
	}
	pidR, pidW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	args := append([]string{"shim", "--ppid", strconv.Itoa(os.Getpid()), "--", c.opts.Command}, c.opts.Args...)
	cmd = exec.Command(c.opts.Shim, args...)
	cmd.Env, cmd.Dir = env, c.opts.Dir
	cmd.ExtraFiles = []*os.File{pidW} // fd 3 in the shim
	prepareShim(cmd)
	return cmd, pidR, nil
}

// childSeq numbers the children of this process, for their marks.
var childSeq atomic.Uint64

func (c *Conn) shimmed() bool { return c.opts.Shim != "" && shimSupported }

// readReport reads what the shim writes on fd 3: "pid N" once the child
// runs, "status W" (its raw wait status) when it has exited. It ends when
// the shim exits.
func (c *Conn) readReport(r *os.File) {
	defer close(c.reported)
	defer r.Close()
	sc := bufio.NewScanner(io.LimitReader(r, 256))
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseUint(val, 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "pid":
			c.real.Store(int64(n))
		case "status":
			c.status.Store(n + 1) // 0 means none
		}
	}
}

// kill is the last rung of the stop ladder. A shim is asked first to kill
// its whole tree, which reaches descendants that left the process group;
// then the group is killed outright.
func (c *Conn) kill() {
	if c.shimmed() {
		_ = shimKill(c.cmd.Process)
		if c.waitExit(200 * time.Millisecond) {
			return
		}
	}
	_ = killGroup(c.pid)
	_ = c.cmd.Process.Kill() // by handle (pidfd, or the Windows handle): the child itself, whatever else failed
}
