package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Options says how Write replaces a file.
type Options struct {
	Perm      fs.FileMode // mode of the new file (0o600 if zero)
	Sync      bool        // fsync the file before and its directory after the rename
	NoReplace bool        // fail with fs.ErrExist if path exists
}

// Write replaces path's content with data.
func Write(path string, data []byte, opt Options) (err error) {
	perm := opt.Perm
	if perm == 0 {
		perm = 0o600
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("atomic write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
			err = fmt.Errorf("atomic write %s: %w", path, err)
		}
	}()
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil && opt.Sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if opt.NoReplace {
		if _, serr := os.Lstat(path); serr == nil {
			return fs.ErrExist
		} else if !errors.Is(serr, fs.ErrNotExist) {
			return serr
		}
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if opt.Sync {
		return SyncDir(dir)
	}
	return nil
}

// SyncDir fsyncs a directory, so that creates, renames and removes in it
// survive a power loss.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// IsTemp reports whether name (a base name) is one of Write's temporary
// files, left behind only by a crash between create and rename.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-")
}
