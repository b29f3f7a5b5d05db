// Package atomicfile replaces a file's content so that a crash at any
// moment leaves either the old or the new content under its name, never a
// mix or a truncated file.
//
//	err := atomicfile.Write(path, data, atomicfile.Options{Perm: 0o600, Sync: true})
//
// Invariants:
//   - The new content is written to a temporary file in the same directory
//     (named "." + base + ".tmp-*", so that it is hidden and recognisable)
//     and renamed over path; the temporary file is removed on every error.
//   - With Sync, the temporary file is fsynced before the rename and the
//     directory after it: once Write returns nil the new content survives
//     a power loss. Without Sync it survives a crash of the process only.
//   - With NoReplace, Write fails with an error wrapping fs.ErrExist when
//     path exists. The check is not atomic with the rename: callers that
//     need it exclusive hold their own lock.
//   - The file mode is Perm (0o600 if zero), whatever the umask.
package atomicfile
