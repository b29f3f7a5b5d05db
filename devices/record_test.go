package devices

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	for _, rec := range []Record{DeviceRecord(validDevice("inv-1")), SiteRecord(validSite("site-1"))} {
		key, value, err := EncodeRecord(rec)
		if err != nil {
			t.Fatalf("EncodeRecord(%s): %v", rec.Key(), err)
		}
		if got, want := string(key), string(rec.Kind)+"/"+rec.ID(); got != want {
			t.Errorf("key = %q, want %q", got, want)
		}
		var m map[string]any
		if err := json.Unmarshal(value, &m); err != nil {
			t.Fatal(err)
		}
		if m["kind"] != string(rec.Kind) || m["version"] != float64(RecordVersion) {
			t.Errorf("value %s: want kind %q, version %d", value, rec.Kind, RecordVersion)
		}
		back, err := DecodeRecord(key, value)
		if err != nil {
			t.Fatalf("DecodeRecord(%s): %v", key, err)
		}
		if back.Key() != rec.Key() {
			t.Errorf("decoded %s, want %s", back.Key(), rec.Key())
		}
		if rec.Device != nil && !deviceEqual(*back.Device, *rec.Device) {
			t.Errorf("device = %+v, want %+v", back.Device, rec.Device)
		}
	}
}

func TestEncodeRecordRejectsInvalid(t *testing.T) {
	d := validDevice("inv-1")
	d.KWp = 0
	if _, _, err := EncodeRecord(DeviceRecord(d)); err == nil {
		t.Error("EncodeRecord accepted a device with kwp 0")
	}
	if _, _, err := EncodeRecord(Record{Kind: KindDevice, Version: RecordVersion}); err == nil {
		t.Error("EncodeRecord accepted a device record without a device")
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	dev := func(mod func(m map[string]any)) string {
		_, v, err := EncodeRecord(DeviceRecord(validDevice("inv-1")))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(v, &m); err != nil {
			t.Fatal(err)
		}
		mod(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	field := func(k string, v any) func(map[string]any) {
		return func(m map[string]any) { m["device"].(map[string]any)[k] = v }
	}
	for _, tc := range []struct {
		desc, key, value, wantErr string
	}{
		{"no slash", "inv-1", dev(func(map[string]any) {}), "want <kind>/<id>"},
		{"unknown kind in key", "meter/inv-1", dev(func(map[string]any) {}), "unknown kind"},
		{"bad id in key", "device/a b", dev(func(map[string]any) {}), "not in [A-Za-z0-9._-]"},
		{"tombstone", "device/inv-1", "\x00nil", "tombstone"},
		{"not JSON", "device/inv-1", "{", "unexpected end"},
		{"trailing data", "device/inv-1", dev(func(map[string]any) {}) + "{}", "invalid character"},
		{"version 2", "device/inv-1", dev(func(m map[string]any) { m["version"] = 2 }), "version 2"},
		{"version missing", "device/inv-1", dev(func(m map[string]any) { delete(m, "version") }), "version 0"},
		{"unknown kind", "device/inv-1", dev(func(m map[string]any) { m["kind"] = "meter" }), "record kind"},
		{"site payload too", "device/inv-1", dev(func(m map[string]any) { m["site"] = map[string]any{"id": "s"} }), "exactly the device"},
		{"id mismatch", "device/inv-2", dev(func(map[string]any) {}), "describes device/inv-1"},
		{"kind mismatch", "site/inv-1", dev(func(map[string]any) {}), "describes device/inv-1"},
		{"invalid device", "device/inv-1", dev(field("kwp", -5)), "kwp"},
		{"key not base64", "device/inv-1", dev(field("public_key", "zz")), "illegal base64"},
		{"key too short", "device/inv-1", dev(field("public_key", "AAAA")), "public_key"},
		{"wrong type", "device/inv-1", dev(field("kwp", "9.6")), "cannot unmarshal"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			var value []byte
			if tc.value != "\x00nil" {
				value = []byte(tc.value)
			}
			_, err := DecodeRecord([]byte(tc.key), value)
			if err == nil {
				t.Fatalf("DecodeRecord(%q, %q) = nil error", tc.key, tc.value)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestDecodeRecordIgnoresUnknownFields(t *testing.T) {
	key, value, err := EncodeRecord(SiteRecord(validSite("site-1")))
	if err != nil {
		t.Fatal(err)
	}
	value = []byte(strings.Replace(string(value), `"site":{`, `"future":true,"site":{"tariff_cny_kwh":0.42,`, 1))
	if _, err := DecodeRecord(key, value); err != nil {
		t.Errorf("DecodeRecord with unknown fields: %v", err)
	}
}
