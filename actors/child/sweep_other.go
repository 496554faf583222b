//go:build !linux

package child

// NewOwnerMark: no mark where there is no sweep and no guardian.
func NewOwnerMark() string { return "" }

func ownerEnv(string) string { return "" }

// killLeftBehind: see the process group and Job Object kills instead.
func killLeftBehind(string) {}

// SweepOrphans is Linux-only: macOS relies on the shim's watchdog and
// Windows on Job Objects.
func SweepOrphans() int { return 0 }

// Guardian is Linux-only for now (macOS: the per-child shim; Windows: Job
// Objects).
type Guardian struct{}

// StartGuardian does nothing here.
func StartGuardian(string, string) (*Guardian, error) { return nil, ErrNoUsage }

// Stop does nothing.
func (*Guardian) Stop() error { return nil }

// RunGuardian is not used here.
func RunGuardian([]string) {}
