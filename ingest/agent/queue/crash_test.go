package queue

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// crashDirEnv selects the child role of TestCrash: TestCrashChild appends
// to the queue in that directory until it is killed.
const crashDirEnv = "SUNPROOF_QUEUE_CRASH_DIR"

func crashConfig(dir string) Config {
	cfg := DefaultConfig(dir)
	cfg.Fsync = FsyncAlways
	cfg.SegmentBytes = MinSegmentBytes // ~6 records: constant rollover and deletion
	cfg.CheckpointInterval = 20 * time.Millisecond
	return cfg
}

// TestCrashChild is the child process of TestCrash; run directly it does
// nothing. It prints "A <seq>" after each Append returns and "K <lo> <hi>"
// before each Ack, so the parent knows what must survive and what may be
// gone.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		return
	}
	q, err := Open(crashConfig(dir), nil)
	if err != nil {
		fmt.Printf("ERR open: %v\n", err)
		os.Exit(2)
	}
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	deadline := time.Now().Add(10 * time.Second) // in case the parent is gone
	for seq := q.LastSeq() + 1; time.Now().Before(deadline); seq++ {
		if err := q.Append(seq, payload(seq)); err != nil {
			fmt.Printf("ERR append: %v\n", err)
			os.Exit(2)
		}
		fmt.Printf("A %d\n", seq) // unbuffered: one write(2) per line
		if seq > 20 && rng.IntN(20) == 0 {
			// The collector catches up: move the cursor, delete segments.
			fmt.Printf("K 1 %d\n", seq-10)
			q.Ack(1, seq-10)
		} else if rng.IntN(3) == 0 {
			// Ack a random recent range, out of order and with duplicates.
			lo := seq - min(seq-1, uint64(rng.IntN(30)))
			hi := min(seq, lo+uint64(rng.IntN(8)))
			fmt.Printf("K %d %d\n", lo, hi)
			q.Ack(lo, hi)
		}
	}
	os.Exit(3)
}

// TestCrash kills a child process that appends with Fsync "always" at a
// random moment, five times, and checks after each kill that every record
// whose Append returned is still there (unless it may have been acked) and
// that the queue is consistent.
func TestCrash(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	appended := map[uint64]bool{}
	maybeAcked := map[uint64]bool{}
	var maxAppended uint64
	for round := range 5 {
		start := time.Now()
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=30s")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()

		killAfter := time.Duration(50+rng.IntN(450)) * time.Millisecond
		var kill <-chan time.Time
		startup := time.After(1500 * time.Millisecond)
		n := 0
		for line := range lines {
			if kill == nil {
				kill = time.After(killAfter) // start counting at the first record
			}
			switch f := strings.Fields(line); {
			case len(f) == 2 && f[0] == "A":
				var s uint64
				fmt.Sscan(f[1], &s)
				appended[s] = true
				maxAppended = max(maxAppended, s)
				n++
			case len(f) == 3 && f[0] == "K":
				var lo, hi uint64
				fmt.Sscan(f[1], &lo)
				fmt.Sscan(f[2], &hi)
				for s := lo; s <= hi; s++ {
					maybeAcked[s] = true
				}
			default:
				cmd.Process.Kill()
				t.Fatalf("round %d: child: %q\nstderr: %s", round, line, stderr.String())
			}
			select {
			case <-kill:
				cmd.Process.Kill() // SIGKILL
				kill = make(chan time.Time)
			case <-startup:
				if n == 0 {
					cmd.Process.Kill()
					t.Fatalf("round %d: child produced no records; stderr: %s", round, stderr.String())
				}
			default:
			}
		}
		err = cmd.Wait()
		if st := cmd.ProcessState; st == nil || st.Exited() {
			t.Fatalf("round %d: child was not killed: %v\nstderr: %s", round, err, stderr.String())
		}

		q, err := Open(crashConfig(dir), nil)
		if err != nil {
			t.Fatalf("round %d: Open after kill: %v", round, err)
		}
		checkConsistent(t, q)
		pending := map[uint64]bool{}
		for _, s := range pendingSeqs(t, q, 0, 1<<30) {
			pending[s] = true
		}
		lost := 0
		for s := range appended {
			if !pending[s] && !maybeAcked[s] {
				lost++
				t.Errorf("round %d: seq %d was appended, never acked, and is gone", round, s)
			}
		}
		for s := uint64(1); s <= q.AckedThrough(); s++ {
			if appended[s] && !maybeAcked[s] {
				t.Fatalf("round %d: AckedThrough %d covers unacked seq %d", round, q.AckedThrough(), s)
			}
		}
		if got := q.LastSeq(); got < maxAppended {
			t.Fatalf("round %d: LastSeq() = %d, but %d was appended", round, got, maxAppended)
		}
		t.Logf("round %d: killed after %d appends in %v; %d pending, LastSeq %d, AckedThrough %d, %d segments",
			round, n, time.Since(start).Round(time.Millisecond), q.Len(), q.LastSeq(), q.AckedThrough(), len(segFiles(t, dir)))
		mustClose(t, q)
		if lost > 0 {
			t.FailNow()
		}
	}
}
