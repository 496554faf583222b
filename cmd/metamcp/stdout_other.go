//go:build !unix

package main

import "os"

// claimStdout returns stdout as it is on systems without dup2.
func claimStdout() (*os.File, error) {
	out := os.Stdout
	os.Stdout = os.Stderr
	return out, nil
}
