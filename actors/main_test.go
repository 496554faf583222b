//go:build linux

package actors

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/metamcp/metamcp/actors/child"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "shim" { // the test binary is also the process shim
		child.RunShim(os.Args[2:])
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "guard" { // and the guardian
		child.RunGuardian(os.Args[2:])
		return
	}
	if mode := os.Getenv(fakeChildEnv); mode != "" {
		runFakeChild(mode)
		return
	}
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/metamcp/metamcp/actors/child.forkLoop"),
		// protoactor's shared dispatcher and dead-letter throttle outlive a System.
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewThrottle.func1"),
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"),
	)
}
