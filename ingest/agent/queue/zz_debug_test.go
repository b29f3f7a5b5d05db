package queue

import (
	"testing"
	"time"
)

func TestZZDebugFuzz(t *testing.T) {
	var valid []byte
	for s := uint64(1); s <= 4; s++ {
		valid = appendRecord(valid, s, payload(s))
	}
	start := time.Now()
	for range 300 {
		fuzzOpenCorrupt(t, valid[:len(valid)-5], false)
	}
	t.Logf("%v/exec", time.Since(start)/2000)
}
