package ingest

import (
	"reflect"
	"testing"
)

func TestDeviceFromTopic(t *testing.T) {
	cases := []struct {
		topic, want string
		ok          bool
	}{
		{"pv/inv-1/readings", "inv-1", true},
		{ReadingsTopic("a.b_c"), "a.b_c", true},
		{"pv//readings", "", false},
		{"pv/a/b/readings", "", false},
		{"pv/a/ack", "", false},
		{"xx/a/readings", "", false},
	}
	for _, tc := range cases {
		got, ok := DeviceFromTopic(tc.topic)
		if got != tc.want || ok != tc.ok {
			t.Errorf("DeviceFromTopic(%q) = %q, %v; want %q, %v", tc.topic, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCompact(t *testing.T) {
	cases := []struct {
		in   []uint64
		want []Range
	}{
		{nil, nil},
		{[]uint64{5}, []Range{{5, 5}}},
		{[]uint64{3, 1, 2, 2, 7, 9, 8}, []Range{{1, 3}, {7, 9}}},
		{[]uint64{10, 12}, []Range{{10, 10}, {12, 12}}},
	}
	for _, tc := range cases {
		if got := Compact(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Compact(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestAckRoundTrip(t *testing.T) {
	a := Ack{Ranges: []Range{{1, 3}, {7, 1 << 40}}}
	got, err := UnmarshalAck(a.Marshal())
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("got %v, %v; want %v", got, err, a)
	}
	bad := a.Marshal()
	bad = bad[:len(bad)-1]
	if _, err := UnmarshalAck(bad); err == nil {
		t.Fatal("truncated ack accepted")
	}
}

func FuzzUnmarshalAck(f *testing.F) {
	f.Add(Ack{Ranges: []Range{{1, 2}}}.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := UnmarshalAck(b)
		if err != nil {
			return
		}
		if got := a.Marshal(); string(got) != string(b) {
			t.Fatalf("round trip changed bytes")
		}
	})
}
