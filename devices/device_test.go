package devices

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// testKey is a fixed public key (the key of seed 0x01…).
func testKey(b byte) ed25519.PublicKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
}

func validDevice(id string) Device {
	return Device{
		ID:         id,
		SiteID:     "site-1",
		PublicKey:  testKey(1),
		KWp:        9.6,
		ACRatingW:  8000,
		Lat:        31.23,
		Lon:        121.47,
		TiltDeg:    25,
		AzimuthDeg: 180,
		GridRegion: "CN-East",
		Installer:  "Sunny Installers Co.",
		LoanRef:    "PVL-2023-000123",
		Status:     StatusActive,
		CreatedAt:  t0,
		UpdatedAt:  t0,
	}
}

func validSite(id string) Site {
	return Site{
		ID:         id,
		Name:       "Wang family rooftop",
		Installer:  "Sunny Installers Co.",
		GridRegion: "CN-East",
		Lat:        31.23,
		Lon:        121.47,
		LoanRef:    "PVL-2023-000123",
		CreatedAt:  t0,
	}
}

func TestDeviceValidate(t *testing.T) {
	for _, tc := range []struct {
		desc      string
		mod       func(*Device)
		wantField string // "" = valid
	}{
		{"valid", func(*Device) {}, ""},
		{"no loan ref", func(d *Device) { d.LoanRef = "" }, ""},
		{"zero updated_at", func(d *Device) { d.UpdatedAt = time.Time{} }, ""},
		{"id 64 chars", func(d *Device) { d.ID = strings.Repeat("a", 64) }, ""},
		{"id charset", func(d *Device) { d.ID = "inv_1.A-9" }, ""},
		{"tilt 0 azimuth 0", func(d *Device) { d.TiltDeg, d.AzimuthDeg = 0, 0 }, ""},
		{"tilt 90 azimuth 360", func(d *Device) { d.TiltDeg, d.AzimuthDeg = 90, 360 }, ""},
		{"lat lon corners", func(d *Device) { d.Lat, d.Lon = -90, 180 }, ""},
		{"kwp max", func(d *Device) { d.KWp = MaxKWp }, ""},
		{"disabled", func(d *Device) { *d = d.AsDisabled(t0.Add(time.Hour)) }, ""},

		{"empty id", func(d *Device) { d.ID = "" }, "id"},
		{"id 65 chars", func(d *Device) { d.ID = strings.Repeat("a", 65) }, "id"},
		{"id slash", func(d *Device) { d.ID = "a/b" }, "id"},
		{"id space", func(d *Device) { d.ID = "a b" }, "id"},
		{"id non-ascii", func(d *Device) { d.ID = "逆变器" }, "id"},
		{"id mqtt wildcard", func(d *Device) { d.ID = "inv+1" }, "id"},
		{"empty site id", func(d *Device) { d.SiteID = "" }, "site_id"},
		{"no key", func(d *Device) { d.PublicKey = nil }, "public_key"},
		{"short key", func(d *Device) { d.PublicKey = d.PublicKey[:31] }, "public_key"},
		{"kwp 0", func(d *Device) { d.KWp = 0 }, "kwp"},
		{"kwp negative", func(d *Device) { d.KWp = -1 }, "kwp"},
		{"kwp too big", func(d *Device) { d.KWp = MaxKWp + 1 }, "kwp"},
		{"kwp NaN", func(d *Device) { d.KWp = math.NaN() }, "kwp"},
		{"kwp Inf", func(d *Device) { d.KWp = math.Inf(1) }, "kwp"},
		{"ac 0", func(d *Device) { d.ACRatingW = 0 }, "ac_rating_w"},
		{"ac NaN", func(d *Device) { d.ACRatingW = math.NaN() }, "ac_rating_w"},
		{"lat 91", func(d *Device) { d.Lat = 91 }, "lat"},
		{"lat NaN", func(d *Device) { d.Lat = math.NaN() }, "lat"},
		{"lon -181", func(d *Device) { d.Lon = -181 }, "lon"},
		{"tilt negative", func(d *Device) { d.TiltDeg = -1 }, "tilt_deg"},
		{"tilt 91", func(d *Device) { d.TiltDeg = 91 }, "tilt_deg"},
		{"azimuth negative", func(d *Device) { d.AzimuthDeg = -0.1 }, "azimuth_deg"},
		{"azimuth 361", func(d *Device) { d.AzimuthDeg = 361 }, "azimuth_deg"},
		{"no grid region", func(d *Device) { d.GridRegion = "" }, "grid_region"},
		{"grid region space", func(d *Device) { d.GridRegion = "CN East" }, "grid_region"},
		{"no installer", func(d *Device) { d.Installer = "" }, "installer"},
		{"installer newline", func(d *Device) { d.Installer = "a\nb" }, "installer"},
		{"installer bad utf8", func(d *Device) { d.Installer = "a\xffb" }, "installer"},
		{"loan ref too long", func(d *Device) { d.LoanRef = strings.Repeat("x", MaxTextLen+1) }, "loan_ref"},
		{"empty status", func(d *Device) { d.Status = "" }, "status"},
		{"unknown status", func(d *Device) { d.Status = "retired" }, "status"},
		{"disabled without time", func(d *Device) { d.Status = StatusDisabled }, "disabled_at"},
		{"active with disabled_at", func(d *Device) { d.DisabledAt = t0 }, "disabled_at"},
		{"no created_at", func(d *Device) { d.CreatedAt = time.Time{} }, "created_at"},
		{"updated before created", func(d *Device) { d.UpdatedAt = t0.Add(-time.Second) }, "updated_at"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			d := validDevice("inv-1")
			tc.mod(&d)
			err := d.Validate()
			checkValidation(t, err, tc.wantField)
		})
	}
}

func TestSiteValidate(t *testing.T) {
	for _, tc := range []struct {
		desc      string
		mod       func(*Site)
		wantField string
	}{
		{"valid", func(*Site) {}, ""},
		{"no loan ref", func(s *Site) { s.LoanRef = "" }, ""},
		{"unicode name", func(s *Site) { s.Name = "王家屋顶" }, ""},
		{"empty id", func(s *Site) { s.ID = "" }, "id"},
		{"id colon", func(s *Site) { s.ID = "a:b" }, "id"},
		{"no name", func(s *Site) { s.Name = "" }, "name"},
		{"name tab", func(s *Site) { s.Name = "a\tb" }, "name"},
		{"no installer", func(s *Site) { s.Installer = "" }, "installer"},
		{"no grid region", func(s *Site) { s.GridRegion = "" }, "grid_region"},
		{"lat -91", func(s *Site) { s.Lat = -91 }, "lat"},
		{"lon 180.5", func(s *Site) { s.Lon = 180.5 }, "lon"},
		{"lon NaN", func(s *Site) { s.Lon = math.NaN() }, "lon"},
		{"loan ref control", func(s *Site) { s.LoanRef = "x\x00" }, "loan_ref"},
		{"no created_at", func(s *Site) { s.CreatedAt = time.Time{} }, "created_at"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			s := validSite("site-1")
			tc.mod(&s)
			checkValidation(t, s.Validate(), tc.wantField)
		})
	}
}

func checkValidation(t *testing.T, err error, wantField string) {
	t.Helper()
	if wantField == "" {
		if err != nil {
			t.Fatalf("Validate() = %v, want nil", err)
		}
		return
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate() = %v, want a *ValidationError for %s", err, wantField)
	}
	if got, want := ve.Field, wantField; got != want {
		t.Errorf("field = %q (%v), want %q", got, err, want)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
}

func TestValidateID(t *testing.T) {
	for id, ok := range map[string]bool{
		"inv-1": true, "A.b_c-9": true, strings.Repeat("z", 64): true,
		"": false, strings.Repeat("z", 65): false, "a/b": false, "a#": false, "#": false, "é": false,
	} {
		if got := ValidateID(id) == nil; got != ok {
			t.Errorf("ValidateID(%q) ok = %v, want %v", id, got, ok)
		}
	}
}

func TestDeviceJSON(t *testing.T) {
	d := validDevice("inv-1")
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "site_id", "public_key", "kwp", "ac_rating_w", "lat", "lon", "tilt_deg",
		"azimuth_deg", "grid_region", "installer", "loan_ref", "status", "created_at", "updated_at"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON %s lacks %q", b, k)
		}
	}
	if _, ok := m["disabled_at"]; ok {
		t.Errorf("JSON of an active device has disabled_at: %s", b)
	}
	// The key is standard base64 of the 32 raw bytes.
	if got, want := m["public_key"], "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w="; got != want {
		t.Errorf("public_key = %v, want %v", got, want)
	}
	if got, want := m["status"], "active"; got != want {
		t.Errorf("status = %v, want %v", got, want)
	}

	var back Device
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !deviceEqual(back, d) {
		t.Errorf("round trip = %+v, want %+v", back, d)
	}

	dis := d.AsDisabled(t0.Add(time.Hour))
	b, err = json.Marshal(dis)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"disabled_at":"2025-03-01T09:00:00Z"`)) {
		t.Errorf("JSON of a disabled device: %s", b)
	}
}

func TestSiteJSON(t *testing.T) {
	s := validSite("site-1")
	s.LoanRef = ""
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"site-1","name":"Wang family rooftop","installer":"Sunny Installers Co.","grid_region":"CN-East","lat":31.23,"lon":121.47,"created_at":"2025-03-01T08:00:00Z"}`
	if got := string(b); got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
}

func TestAsDisabledAsActive(t *testing.T) {
	d := validDevice("inv-1")
	dis := d.AsDisabled(t0.Add(time.Hour))
	if dis.Active() || dis.Status != StatusDisabled || !dis.DisabledAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("AsDisabled = %+v", dis)
	}
	if !d.Active() {
		t.Error("AsDisabled modified its receiver")
	}
	again := dis.AsActive(t0.Add(2 * time.Hour))
	if err := again.Validate(); err != nil || !again.Active() || !again.DisabledAt.IsZero() {
		t.Errorf("AsActive = %+v, %v", again, err)
	}
}

func deviceEqual(a, b Device) bool {
	pa, pb := a.PublicKey, b.PublicKey
	a.PublicKey, b.PublicKey = nil, nil
	ta := []time.Time{a.CreatedAt, a.UpdatedAt, a.DisabledAt}
	tb := []time.Time{b.CreatedAt, b.UpdatedAt, b.DisabledAt}
	a.CreatedAt, a.UpdatedAt, a.DisabledAt = time.Time{}, time.Time{}, time.Time{}
	b.CreatedAt, b.UpdatedAt, b.DisabledAt = time.Time{}, time.Time{}, time.Time{}
	for i := range ta {
		if !ta[i].Equal(tb[i]) {
			return false
		}
	}
	return reflect.DeepEqual(a, b) && pa.Equal(pb)
}
