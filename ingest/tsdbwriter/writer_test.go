package tsdbwriter

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	influxhttp "github.com/influxdata/influxdb-client-go/v2/api/http"
	"github.com/segmentio/kafka-go"

	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/reading"
)

var key = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))

func rd(seq uint64) reading.Reading {
	r := reading.Reading{DeviceID: "dev-1", SiteID: "site-1", Seq: seq, TimeMS: 1_782_016_200_000 + int64(seq)*1000,
		Measurement: reading.Measurement{ACPowerW: 1234.5, EnergyWh: 1000 + seq, ACVoltageV: 230, FrequencyHz: 50,
			PowerFactor: 0.99, TempC: 35, State: reading.StateMPPT}}
	_ = r.Sign(key)
	return r
}

func TestAppendLine(t *testing.T) {
	r := rd(7)
	got := string(AppendLine(nil, &r))
	want := "reading,device_id=dev-1,site_id=site-1 seq=7i,energy_wh=1007i,state=4i,events=0i," +
		"ac_power_w=1234.5,ac_voltage_v=230,frequency_hz=50,power_factor=0.99,dc_voltage_v=0,dc_current_a=0," +
		"dc_power_w=0,temp_c=35 1782016207000000007"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

type fakeDB struct {
	lines    []string
	failOnce error
	refuse   string // lines containing it get a 400
}

func (f *fakeDB) WriteRecord(_ context.Context, lines ...string) error {
	if f.failOnce != nil {
		err := f.failOnce
		f.failOnce = nil
		return err
	}
	for _, l := range lines {
		if f.refuse != "" && strings.Contains(l, f.refuse) {
			return &influxhttp.Error{StatusCode: 400, Message: "partial write: field type conflict"}
		}
	}
	f.lines = append(f.lines, lines...)
	return nil
}

type fakeOut struct{ msgs []kafka.Message }

func (f *fakeOut) WriteMessages(_ context.Context, m ...kafka.Message) error {
	f.msgs = append(f.msgs, m...)
	return nil
}

func newTestWriter(t *testing.T) *Writer {
	cfg := DefaultConfig()
	cfg.RetryMax = time.Millisecond
	w, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func kmsg(t *testing.T, r reading.Reading) kafka.Message {
	b, err := r.Wire()
	if err != nil {
		t.Fatal(err)
	}
	return kafka.Message{Key: []byte(r.DeviceID), Value: b}
}

func TestFlush(t *testing.T) {
	cases := []struct {
		desc       string
		db         *fakeDB
		batch      func() []kafka.Message
		wantLines  int
		wantReject []string // reasons
	}{
		{"all good", &fakeDB{}, func() []kafka.Message { return []kafka.Message{kmsg(t, rd(1)), kmsg(t, rd(2))} }, 2, nil},
		{"transient error retried", &fakeDB{failOnce: errors.New("connection refused")},
			func() []kafka.Message { return []kafka.Message{kmsg(t, rd(1))} }, 1, nil},
		{"503 retried", &fakeDB{failOnce: &influxhttp.Error{StatusCode: 503}},
			func() []kafka.Message { return []kafka.Message{kmsg(t, rd(1))} }, 1, nil},
		{"one refused point isolated", &fakeDB{refuse: "seq=2i"},
			func() []kafka.Message { return []kafka.Message{kmsg(t, rd(1)), kmsg(t, rd(2)), kmsg(t, rd(3))} }, 2, []string{"tsdb_rejected"}},
		{"undecodable record reported", &fakeDB{},
			func() []kafka.Message { return []kafka.Message{{Value: []byte("junk")}, kmsg(t, rd(1))} }, 1, []string{"tsdb_rejected"}},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			w := newTestWriter(t)
			out := &fakeOut{}
			if err := w.flush(context.Background(), tc.batch(), tc.db, out); err != nil {
				t.Fatal(err)
			}
			if got := len(tc.db.lines); got != tc.wantLines {
				t.Fatalf("%d lines written, want %d", got, tc.wantLines)
			}
			if got := len(out.msgs); got != len(tc.wantReject) {
				t.Fatalf("%d rejects, want %d", got, len(tc.wantReject))
			}
			for i, m := range out.msgs {
				var rec ingest.RejectRecord
				if err := json.Unmarshal(m.Value, &rec); err != nil || rec.Reason != tc.wantReject[i] || len(rec.Payload) == 0 {
					t.Fatalf("reject %d: %+v (%v)", i, rec, err)
				}
			}
		})
	}
}

func TestTransientErrorHonoursContext(t *testing.T) {
	w := newTestWriter(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	db := &fakeDB{failOnce: errors.New("down")}
	if err := w.flush(ctx, []kafka.Message{kmsg(t, rd(1))}, db, &fakeOut{}); err == nil {
		t.Fatal("flush returned nil although nothing was written")
	}
}
