package queue

import (
	"testing"
)

// Compare runs with benchstat:
//
//	go test -run='^$' -bench=. -count=6 ./ingest/agent/queue/ > new.txt
//	benchstat old.txt new.txt
//
// Absolute numbers depend on the storage: fsync on an SD card costs
// milliseconds, on a server SSD with a write cache tens of microseconds.

const benchRecordBytes = 300 // a signed reading

// BenchmarkAppend appends 300-byte records under each fsync policy, acking
// every 4096 records so that segments are deleted as in steady state.
func BenchmarkAppend(b *testing.B) {
	rec := make([]byte, benchRecordBytes)
	for _, policy := range []FsyncPolicy{FsyncAlways, FsyncOnInterval, FsyncNever} {
		b.Run(string(policy), func(b *testing.B) {
			cfg := DefaultConfig(b.TempDir())
			cfg.Fsync = policy
			q, err := Open(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer q.Close()
			b.ReportAllocs()
			b.SetBytes(benchRecordBytes)
			var seq uint64
			for b.Loop() {
				seq++
				if err := q.Append(seq, rec); err != nil {
					b.Fatal(err)
				}
				if seq%4096 == 0 {
					q.Ack(1, seq)
				}
			}
			b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(headerSize+benchRecordBytes, "disk-B/rec")
		})
	}
}

// BenchmarkPending reads batches of 500 from a backlog of 100k records
// (30 MB, about 4 segments), as the publisher does after hours offline.
func BenchmarkPending(b *testing.B) {
	const backlog, batch = 100_000, 500
	cfg := DefaultConfig(b.TempDir())
	cfg.Fsync = FsyncNever
	q, err := Open(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	rec := make([]byte, benchRecordBytes)
	for s := uint64(1); s <= backlog; s++ {
		if err := q.Append(s, rec); err != nil {
			b.Fatal(err)
		}
	}
	// Out-of-order acks leave holes that Pending must skip.
	for s := uint64(2); s <= backlog; s += 10 {
		q.Ack(s, s)
	}
	b.ReportAllocs()
	b.SetBytes(batch * benchRecordBytes)
	var after uint64
	n := 0
	for b.Loop() {
		recs, err := q.Pending(after, batch)
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) < batch {
			after = 0
		} else {
			after = recs[len(recs)-1].Seq
		}
		n += len(recs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkOpen measures recovery (scan and checksum every record) of a
// 100k-record backlog, i.e. the agent's start-up cost after a power cut.
func BenchmarkOpen(b *testing.B) {
	const backlog = 100_000
	cfg := DefaultConfig(b.TempDir())
	cfg.Fsync = FsyncNever
	q, err := Open(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	rec := make([]byte, benchRecordBytes)
	for s := uint64(1); s <= backlog; s++ {
		if err := q.Append(s, rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := q.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		q, err := Open(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		if q.Len() != backlog {
			b.Fatalf("Len() = %d", q.Len())
		}
		q.Close()
	}
	b.ReportMetric(float64(backlog)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
