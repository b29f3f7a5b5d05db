//go:build !unix

package anchor

import "os"

// lockFile opens path without locking: advisory locks are only implemented
// on Unix, so elsewhere nothing stops two writers sharing a store.
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}
