package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sunproof/sunproof/ingest/agent/queue"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/internal/atomicfile"
)

// lastPath is where the agent keeps the wire form of the last reading it
// signed: next to the queue directory, never inside it.
func (a *Agent) lastPath() string {
	d := filepath.Clean(a.cfg.Queue.Dir)
	return filepath.Join(filepath.Dir(d), filepath.Base(d)+".last")
}

// saveLast replaces the last-reading file atomically (durably when the
// queue's fsync policy is "always").
func (a *Agent) saveLast(wire []byte) error {
	err := atomicfile.Write(a.lastPath(), wire, atomicfile.Options{Perm: 0o600, Sync: a.cfg.Queue.Fsync == queue.FsyncAlways})
	if err != nil {
		return fmt.Errorf("save last reading: %w", err)
	}
	return nil
}

// resumeSource gives a Resumer source the last signed reading's counter.
func (a *Agent) resumeSource() error {
	res, ok := a.src.(Resumer)
	if !ok {
		return nil
	}
	b, err := os.ReadFile(a.lastPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read last reading: %w", err)
	}
	r, err := reading.Decode(b)
	if err != nil {
		// Torn or foreign file: the queue still has the seq; only the
		// simulated counter restarts. Say so.
		a.log.Warn("last-reading file unreadable; simulated counter restarts", "err", err)
		return nil
	}
	res.Resume(r.EnergyWh, r.Time())
	return nil
}
