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
	for _, nl := range []bool{false, true} {
		start := time.Now()
		for range 200 {
			fuzzOpenCorrupt(t, valid[:len(valid)-5], nl)
		}
		t.Logf("nonLast=%v %v/exec", nl, time.Since(start)/200)
	}
}
