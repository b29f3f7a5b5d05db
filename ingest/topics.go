package ingest

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/sunproof/sunproof/ingest/reading"
	"strings"
)

// Kafka topic names (defaults; each service's Config can override them).
const (
	TopicReadings = "pv.readings"
	TopicRejects  = "pv.rejects"
	TopicDevices  = "pv.devices"
	TopicAlerts   = "pv.alerts"
)

// ReadingsTopic returns the MQTT topic a device publishes its readings to.
func ReadingsTopic(deviceID string) string { return "pv/" + deviceID + "/readings" }

// AckTopic returns the MQTT topic a device receives end-to-end acks on.
func AckTopic(deviceID string) string { return "pv/" + deviceID + "/ack" }

// ReadingsFilter is the MQTT subscription filter for all devices' readings.
const ReadingsFilter = "pv/+/readings"

// DeviceFromTopic extracts the device id from a pv/<id>/readings topic.
func DeviceFromTopic(topic string) (string, bool) {
	rest, ok := strings.CutPrefix(topic, "pv/")
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "/readings")
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// Range is an inclusive span of sequence numbers.
type Range struct{ From, To uint64 }

// Ack is the end-to-end acknowledgement: the seq ranges of one device that
// are now durably handled (stored in pv.readings, or recorded in pv.rejects
// for a reason that resending cannot fix).
type Ack struct{ Ranges []Range }

const (
	ackMagic   = "SPAK"
	ackVersion = 1
	// MaxAckRanges bounds one ack message (16 B per range).
	MaxAckRanges = 4096
)

// Marshal encodes a: "SPAK", version u8, count u16, then count × (from u64, to u64), big-endian.
func (a Ack) Marshal() []byte {
	b := make([]byte, 0, 7+16*len(a.Ranges))
	b = append(b, ackMagic...)
	b = append(b, ackVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(len(a.Ranges)))
	for _, r := range a.Ranges {
		b = binary.BigEndian.AppendUint64(b, r.From)
		b = binary.BigEndian.AppendUint64(b, r.To)
	}
	return b
}

// UnmarshalAck decodes an ack message; it never panics.
func UnmarshalAck(b []byte) (Ack, error) {
	if len(b) < 7 || string(b[:4]) != ackMagic || b[4] != ackVersion {
		return Ack{}, fmt.Errorf("ack: bad header")
	}
	n := int(binary.BigEndian.Uint16(b[5:]))
	if n > MaxAckRanges || len(b) != 7+16*n {
		return Ack{}, fmt.Errorf("ack: %d ranges in %d bytes", n, len(b))
	}
	a := Ack{Ranges: make([]Range, n)}
	for i := range a.Ranges {
		p := 7 + 16*i
		r := Range{binary.BigEndian.Uint64(b[p:]), binary.BigEndian.Uint64(b[p+8:])}
		if r.From > r.To {
			return Ack{}, fmt.Errorf("ack: range %d has from %d > to %d", i, r.From, r.To)
		}
		a.Ranges[i] = r
	}
	return a, nil
}

// Compact turns a list of seqs (any order, duplicates allowed) into sorted,
// merged ranges.
func Compact(seqs []uint64) []Range {
	if len(seqs) == 0 {
		return nil
	}
	s := append([]uint64(nil), seqs...)
	slices.Sort(s)
	out := []Range{{s[0], s[0]}}
	for _, v := range s[1:] {
		last := &out[len(out)-1]
		if v <= last.To+1 {
			if v > last.To {
				last.To = v
			}
			continue
		}
		out = append(out, Range{v, v})
	}
	return out
}

// RejectRecord is the JSON value of a pv.rejects record. Reason is one of
// reading.Reasons for the collector's rejects, or "tsdb_rejected" when
// InfluxDB refused a point permanently.
type RejectRecord struct {
	Reason     string        `json:"reason"`
	Detail     string        `json:"detail"`
	Stage      string        `json:"stage"` // collector | tsdb-writer
	MQTTTopic  string        `json:"mqtt_topic,omitempty"`
	ReceivedAt time.Time     `json:"received_at"`
	Payload    []byte        `json:"payload"` // the original bytes (base64 in JSON)
	Reading    *reading.View `json:"reading,omitempty"`
}
