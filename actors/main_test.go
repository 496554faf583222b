package actors

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeChildEnv); mode != "" {
		runFakeChild(mode)
		return
	}
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/metamcp/metamcp/actors/child.forkLoop"),
		// protoactor's shared dispatcher and dead-letter throttle outlive a System.
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewThrottle.func1"),
	)
}
