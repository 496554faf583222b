package specstore

// isUnsupported: Windows cannot fsync a directory; rename is durable
// enough there (NTFS journals metadata).
func isUnsupported(error) bool { return true }
