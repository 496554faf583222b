package child

// The process layer: everything that differs between operating systems sits
// behind these functions, one file per platform.
//
//	prepare(cmd)            set process-group and parent-death attributes
//	startCmd(cmd)           fork and exec (on Linux from a thread that never exits)
//	terminateGroup(pid)     ask the child's group to stop (SIGTERM)
//	killGroup(pid)          end the child's group at once (SIGKILL; a Job Object on Windows)
//	releaseGroup(pid)       free what is held for a reaped child (the Windows job)
//	signalOf(state)         the signal that ended a process, or ""
//	residentBytes(pid)      resident memory of the process, from the OS
