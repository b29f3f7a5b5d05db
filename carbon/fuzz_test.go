package carbon_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/sunproof/sunproof/carbon"
)

var update = flag.Bool("update", false, "rewrite testdata/report-device.json")

// FuzzDecodeReport: the decoder never panics, bounds its input, and what it
// accepts re-encodes to a stable form; Recompute never panics on it.
//
//	go test ./carbon -run '^$' -fuzz FuzzDecodeReport -fuzztime 1m -fuzzminimizetime 2s
//
// (Without a bound on minimization the first worker spends minutes
// minimizing inputs grown from the 10 kB seed report and appears stuck.)
func FuzzDecodeReport(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "report-device.json")); err == nil {
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(bytes.Replace(b, []byte(`"version": 1`), []byte(`"version": 1, "extra": 1`), 1))
	}
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"devices":[{"start":{"bundle":{}},"end":{"bundle":[1,2]}}]}`))
	f.Add([]byte(`{"version":1,"totals":{"eg_mwh":1e308,"be_tco2":-0}}`))
	f.Add([]byte(`{"version":1,"exclusion_policy":{"min_severity":"bogus"}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"version":1} {}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		r, err := carbon.DecodeReport(bytes.NewReader(data))
		if err != nil {
			return
		}
		_, _ = carbon.Recompute(context.Background(), r, carbon.RecomputeOptions{Table: carbon.DefaultTable(), Verifier: fakeVerifier{}})
		var a, b bytes.Buffer
		if err := r.Encode(&a); err != nil {
			return // e.g. an invalid severity cannot be re-encoded
		}
		r2, err := carbon.DecodeReport(bytes.NewReader(a.Bytes()))
		if err != nil {
			t.Fatalf("re-encoded report does not decode: %v\n%s", err, a.Bytes())
		}
		if err := r2.Encode(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("encoding not stable:\n%s\n%s", a.Bytes(), b.Bytes())
		}
	})
}
