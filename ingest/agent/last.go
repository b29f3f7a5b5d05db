package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sunproof/sunproof/ingest/agent/queue"
	"github.com/sunproof/sunproof/ingest/reading"
)

// lastPath is where the agent keeps the wire form of the last reading it
// signed: next to the queue directory, never inside it.
func (a *Agent) lastPath() string {
	d := filepath.Clean(a.cfg.Queue.Dir)
	return filepath.Join(filepath.Dir(d), filepath.Base(d)+".last")
}

// saveLast replaces the last-reading file atomically (fsynced when the
// queue's policy is "always").
func (a *Agent) saveLast(wire []byte) error {
	p := a.lastPath()
	tmp := p + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("save last reading: %w", err)
	}
	_, err = f.Write(wire)
	if err == nil && a.cfg.Queue.Fsync == queue.FsyncAlways {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
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
