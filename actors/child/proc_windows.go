//go:build windows

package child

import (
	"errors"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// prepare starts the child in a new process group. Its tree is held by a
// Job Object (startCmd).
func prepare(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// jobs holds one Job Object per child, by pid. Each is created with
// kill-on-close: when metamcp exits or dies, Windows closes its handles and
// ends every process in the jobs, grandchildren included (they inherit the
// job). A process the child starts in the instant between its start and
// its assignment to the job escapes it: Go's os/exec cannot start a
// process suspended.
var jobs struct {
	sync.Mutex
	byPID map[int]windows.Handle
}

func startCmd(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	job, err := newJob(cmd.Process.Pid)
	if err != nil { // no job: the child runs, without the guarantee
		return nil
	}
	jobs.Lock()
	if jobs.byPID == nil {
		jobs.byPID = map[int]windows.Handle{}
	}
	jobs.byPID[cmd.Process.Pid] = job
	jobs.Unlock()
	return nil
}

func newJob(pid int) (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, err
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{}
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return 0, err
	}
	proc, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(pid))
	if err != nil {
		windows.CloseHandle(job)
		return 0, err
	}
	defer windows.CloseHandle(proc)
	if err := windows.AssignProcessToJobObject(job, proc); err != nil {
		windows.CloseHandle(job)
		return 0, err
	}
	return job, nil
}

// terminateGroup: Windows has no SIGTERM for console processes that we
// could rely on; closing stdin was the polite rung.
func terminateGroup(pid int) error { return killGroup(pid) }

// killGroup ends the child's whole job, or the child alone without one.
func killGroup(pid int) error {
	jobs.Lock()
	job, ok := jobs.byPID[pid]
	jobs.Unlock()
	if ok {
		return windows.TerminateJobObject(job, 1)
	}
	return nil // no job: the stop ladder kills the child by its handle
}

// releaseGroup closes the child's job once it has been reaped (closing it
// ends what is left in it).
func releaseGroup(pid int) {
	jobs.Lock()
	job, ok := jobs.byPID[pid]
	delete(jobs.byPID, pid)
	jobs.Unlock()
	if ok {
		windows.CloseHandle(job)
	}
}

func signalOf(*os.ProcessState) string { return "" }

var errNoRSS = errors.New("resident memory is not sampled on this platform yet")

func residentBytes(int) (int64, error) { return 0, errNoRSS }

// Alive cannot tell on Windows without a handle: it says true, and the
// callers rely on the exit being reported instead.
func Alive(pid int) bool { return pid > 0 }
