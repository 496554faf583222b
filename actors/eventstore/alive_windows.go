package eventstore

// processAlive cannot tell on Windows without opening the process: true.
func processAlive(int) bool { return true }
