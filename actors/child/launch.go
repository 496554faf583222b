package child

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
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

// readRealPID reads the child's pid the shim writes on fd 3; it ends when
// the shim closes it (at once after the fork, or when it exits).
func (c *Conn) readRealPID(r *os.File) {
	defer r.Close()
	b, _ := io.ReadAll(io.LimitReader(r, 32))
	if pid, err := strconv.Atoi(string(bytes.TrimSpace(b))); err == nil && pid > 0 {
		c.real.Store(int64(pid))
	}
}

// kill is the last rung of the stop ladder. A shim is asked first to kill
// its whole tree, which reaches descendants that left the process group;
// then the group is killed outright.
func (c *Conn) kill() {
	if c.shimmed() {
		_ = shimKill(c.pid)
		if c.waitExit(200 * time.Millisecond) {
			return
		}
	}
	_ = killGroup(c.pid)
}
