package queue

import (
	"errors"
	"fmt"
	"time"
)

// FsyncPolicy says when appended records are forced to stable storage.
type FsyncPolicy string

// Fsync policies. See the package documentation for what each one
// guarantees after a crash.
const (
	// FsyncAlways fsyncs the segment before Append returns.
	FsyncAlways FsyncPolicy = "always"
	// FsyncOnInterval fsyncs the segment in the background every
	// Config.FsyncInterval.
	FsyncOnInterval FsyncPolicy = "interval"
	// FsyncNever leaves write-back to the operating system (segments are
	// still fsynced when they are sealed, by Sync and by Close).
	FsyncNever FsyncPolicy = "never"
)

// Defaults and limits of Config.
const (
	DefaultSegmentBytes       = 8 << 20
	DefaultFsyncInterval      = time.Second
	DefaultCheckpointInterval = time.Second

	MinSegmentBytes = 1 << 10
	MaxSegmentBytes = 1 << 30
)

// Config configures a Queue. Zero fields take their defaults, so
// Config{Dir: dir} is valid.
type Config struct {
	// Dir holds the segment files, the state file and the lock file.
	// It is created if missing and must not be shared with anything else.
	Dir string `yaml:"dir"`
	// SegmentBytes is the size at which the active segment is sealed and a
	// new one started (default 8 MiB). A segment is deleted only once all
	// its records are acked, so it is also the granularity of disk reclaim.
	SegmentBytes int64 `yaml:"segment_bytes"`
	// Fsync is the durability policy (default "always").
	Fsync FsyncPolicy `yaml:"fsync"`
	// FsyncInterval is the background fsync period for Fsync "interval"
	// (default 1s).
	FsyncInterval time.Duration `yaml:"fsync_interval"`
	// CheckpointInterval bounds how often the ack cursor is persisted
	// (default 1s). Longer intervals mean fewer writes to flash and more
	// duplicates re-sent after a crash.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// MaxBytes caps the total size of the segment files; 0 means
	// unlimited. When an Append would exceed it, Append returns ErrFull.
	// It must be 0 or at least 2*SegmentBytes.
	MaxBytes int64 `yaml:"max_bytes"`
}

// DefaultConfig returns the default configuration for a queue in dir.
func DefaultConfig(dir string) Config {
	return Config{
		Dir:                dir,
		SegmentBytes:       DefaultSegmentBytes,
		Fsync:              FsyncAlways,
		FsyncInterval:      DefaultFsyncInterval,
		CheckpointInterval: DefaultCheckpointInterval,
	}
}

func (c Config) withDefaults() Config {
	if c.SegmentBytes == 0 {
		c.SegmentBytes = DefaultSegmentBytes
	}
	if c.Fsync == "" {
		c.Fsync = FsyncAlways
	}
	if c.FsyncInterval == 0 {
		c.FsyncInterval = DefaultFsyncInterval
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = DefaultCheckpointInterval
	}
	return c
}

// Validate reports whether c (after defaults are applied to zero fields)
// can be used by Open.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("dir must not be empty"))
	}
	if c.SegmentBytes < MinSegmentBytes || c.SegmentBytes > MaxSegmentBytes {
		errs = append(errs, fmt.Errorf("segment_bytes %d out of range [%d, %d]", c.SegmentBytes, MinSegmentBytes, MaxSegmentBytes))
	}
	switch c.Fsync {
	case FsyncAlways, FsyncOnInterval, FsyncNever:
	default:
		errs = append(errs, fmt.Errorf("fsync %q must be %q, %q or %q", c.Fsync, FsyncAlways, FsyncOnInterval, FsyncNever))
	}
	if c.FsyncInterval < 0 {
		errs = append(errs, fmt.Errorf("fsync_interval %v must be positive", c.FsyncInterval))
	}
	if c.CheckpointInterval < 0 {
		errs = append(errs, fmt.Errorf("checkpoint_interval %v must be positive", c.CheckpointInterval))
	}
	if c.MaxBytes < 0 || (c.MaxBytes > 0 && c.MaxBytes < 2*c.SegmentBytes) {
		errs = append(errs, fmt.Errorf("max_bytes %d must be 0 (unlimited) or at least 2*segment_bytes (%d)", c.MaxBytes, 2*c.SegmentBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("queue config: %w", err)
	}
	return nil
}
