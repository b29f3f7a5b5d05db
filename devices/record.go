package devices

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Kind says what a record on the registry topic describes.
type Kind string

const (
	KindDevice Kind = "device"
	KindSite   Kind = "site"
)

// RecordVersion is the version of the record format written by this package.
// Readers reject records with any other version (they are counted as decode
// errors and the previous value for the key stays in place), so a breaking
// change to the format needs a new version and readers upgraded first.
const RecordVersion = 1

// Record is the value of one message on the registry topic, keyed
// "device/<id>" or "site/<id>" (see Key):
//
//	{"kind":"device","version":1,"device":{"id":"inv-1",...}}
//	{"kind":"site","version":1,"site":{"id":"site-1",...}}
//
// Exactly one of Device and Site is set, matching Kind. Unknown JSON fields
// are ignored, so fields can be added without a new version.
type Record struct {
	Kind    Kind    `json:"kind"`
	Version int     `json:"version"`
	Device  *Device `json:"device,omitempty"`
	Site    *Site   `json:"site,omitempty"`
}

// DeviceRecord wraps d in a Record of the current version.
func DeviceRecord(d Device) Record {
	return Record{Kind: KindDevice, Version: RecordVersion, Device: &d}
}

// SiteRecord wraps s in a Record of the current version.
func SiteRecord(s Site) Record {
	return Record{Kind: KindSite, Version: RecordVersion, Site: &s}
}

// ID returns the id of the device or site the record describes.
func (r Record) ID() string {
	switch {
	case r.Kind == KindDevice && r.Device != nil:
		return r.Device.ID
	case r.Kind == KindSite && r.Site != nil:
		return r.Site.ID
	}
	return ""
}

// Key returns the Kafka message key of the record: "<kind>/<id>".
func (r Record) Key() string { return recordKey(r.Kind, r.ID()) }

func recordKey(k Kind, id string) string { return string(k) + "/" + id }

// parseKey splits a message key into kind and id.
func parseKey(key []byte) (Kind, string, error) {
	kind, id, ok := strings.Cut(string(key), "/")
	if !ok {
		return "", "", fmt.Errorf("key %q: want <kind>/<id>", key)
	}
	switch Kind(kind) {
	case KindDevice, KindSite:
	default:
		return "", "", fmt.Errorf("key %q: unknown kind %q", key, kind)
	}
	if err := ValidateID(id); err != nil {
		return "", "", fmt.Errorf("key %q: %w", key, err)
	}
	return Kind(kind), id, nil
}

// Validate checks that r is well formed, of the current version, and that its
// payload is valid.
func (r Record) Validate() error {
	if r.Version != RecordVersion {
		return fmt.Errorf("record version %d: want %d", r.Version, RecordVersion)
	}
	switch r.Kind {
	case KindDevice:
		if r.Device == nil || r.Site != nil {
			return errors.New("device record: want exactly the device field")
		}
		return r.Device.Validate()
	case KindSite:
		if r.Site == nil || r.Device != nil {
			return errors.New("site record: want exactly the site field")
		}
		return r.Site.Validate()
	}
	return fmt.Errorf("record kind %q: want %q or %q", r.Kind, KindDevice, KindSite)
}

// EncodeRecord validates r and returns its message key and JSON value.
func EncodeRecord(r Record) (key, value []byte, err error) {
	if err := r.Validate(); err != nil {
		return nil, nil, fmt.Errorf("encode record: %w", err)
	}
	value, err = json.Marshal(r)
	if err != nil {
		return nil, nil, fmt.Errorf("encode record %s: %w", r.Key(), err)
	}
	return []byte(r.Key()), value, nil
}

// DecodeRecord parses a message of the registry topic. It fails if the value
// is not a valid Record of the current version, or if the key does not match
// the record's kind and id. A nil value (a tombstone) is an error here; the
// Registry handles tombstones itself.
func DecodeRecord(key, value []byte) (Record, error) {
	kind, id, err := parseKey(key)
	if err != nil {
		return Record{}, fmt.Errorf("decode record: %w", err)
	}
	if value == nil {
		return Record{}, fmt.Errorf("decode record %s: tombstone", key)
	}
	var r Record
	if err := json.Unmarshal(value, &r); err != nil {
		return Record{}, fmt.Errorf("decode record %s: %w", key, err)
	}
	if err := r.Validate(); err != nil {
		return Record{}, fmt.Errorf("decode record %s: %w", key, err)
	}
	if r.Kind != kind || r.ID() != id {
		return Record{}, fmt.Errorf("decode record %s: value describes %s", key, r.Key())
	}
	return r, nil
}
