//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package queue

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir only creates dir/LOCK: on this platform the queue does not
// protect itself against being opened twice.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	return f, nil
}

func unlockDir(f *os.File) error { return f.Close() }
