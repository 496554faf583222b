package control

import "errors"

// Sentinel errors.
var (
	ErrUnsafeDir     = errors.New("runtime directory is not private")
	ErrNotLoopback   = errors.New("control address is not a loopback address")
	ErrNoInstance    = errors.New("no metamcp instance is running")
	ErrManyInstances = errors.New("several metamcp instances are running")
	ErrAPI           = errors.New("control API error")
)

// ManyInstancesError lists the live instances when one had to be chosen.
// It matches ErrManyInstances.
type ManyInstancesError struct{ Instances []Record }

func (e *ManyInstancesError) Error() string { return ErrManyInstances.Error() }

// Is makes errors.Is(err, ErrManyInstances) true.
func (e *ManyInstancesError) Is(target error) bool { return target == ErrManyInstances }

// APIError is an error answer of the control API. It matches ErrAPI.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrAPI) true.
func (e *APIError) Is(target error) bool { return target == ErrAPI }
