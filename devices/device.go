package devices

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors returned by the lookups of [Registry] and [Static].
var (
	// ErrUnknownDevice: no record for the device id has been seen.
	ErrUnknownDevice = errors.New("devices: unknown device")
	// ErrDisabled: the device is known but disabled; its readings must be
	// rejected. Lookups return the Device together with this error.
	ErrDisabled = errors.New("devices: device disabled")
	// ErrUnknownSite: no record for the site id has been seen.
	ErrUnknownSite = errors.New("devices: unknown site")
	// ErrInvalid is matched (errors.Is) by every *ValidationError.
	ErrInvalid = errors.New("devices: invalid")
)

// Limits enforced by Validate.
const (
	MaxIDLen   = 64       // ids are 1..MaxIDLen bytes of [A-Za-z0-9._-]
	MaxTextLen = 128      // names, installers and loan references
	MaxKWp     = 100000.0 // 100 MWp: anything larger is a typo, not a plant
	MaxACW     = 100e6    // 100 MW
)

// Status is the lifecycle state of a device.
type Status string

const (
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
)

// Device is one inverter with its edge agent: the unit that holds an Ed25519
// signing key and an MQTT client certificate (CN = ID).
//
// JSON: snake_case field names; PublicKey is the 32 raw key bytes in standard
// base64 with padding (RFC 4648 §4, encoding/json's []byte form, 44
// characters); times are RFC 3339. LoanRef is omitted when empty and
// DisabledAt when zero.
//
// A Device returned by a lookup shares its PublicKey with the registry's
// snapshot: treat it as read-only.
type Device struct {
	ID        string            `json:"id"`
	SiteID    string            `json:"site_id"`
	PublicKey ed25519.PublicKey `json:"public_key"`
	// KWp is the rated DC capacity in kWp.
	KWp float64 `json:"kwp"`
	// ACRatingW is the inverter's rated AC output in W.
	ACRatingW float64 `json:"ac_rating_w"`
	// Lat and Lon are WGS 84 degrees (north and east positive).
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
	// TiltDeg is the module tilt from horizontal, 0..90.
	TiltDeg float64 `json:"tilt_deg"`
	// AzimuthDeg is the direction the modules face, degrees clockwise from
	// true north (180 = due south), 0..360.
	AzimuthDeg float64 `json:"azimuth_deg"`
	// GridRegion names the grid whose emission factor applies, e.g. "CN-East".
	GridRegion string    `json:"grid_region"`
	Installer  string    `json:"installer"`
	LoanRef    string    `json:"loan_ref,omitempty"`
	Status     Status    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// DisabledAt is zero unless Status is StatusDisabled.
	DisabledAt time.Time `json:"disabled_at,omitzero"`
}

// Site is a plant: one owner, location and (optionally) loan, with one or
// more devices.
type Site struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Installer  string    `json:"installer"`
	GridRegion string    `json:"grid_region"`
	Lat        float64   `json:"lat"`
	Lon        float64   `json:"lon"`
	LoanRef    string    `json:"loan_ref,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Active reports whether readings from d are to be accepted.
func (d Device) Active() bool { return d.Status == StatusActive }

// AsDisabled returns a copy of d disabled at the given time. Publishing it
// disables the device everywhere; the record is kept, never deleted.
func (d Device) AsDisabled(at time.Time) Device {
	d.Status = StatusDisabled
	d.DisabledAt = at
	d.UpdatedAt = at
	return d
}

// AsActive returns a copy of d (re-)enabled at the given time.
func (d Device) AsActive(at time.Time) Device {
	d.Status = StatusActive
	d.DisabledAt = time.Time{}
	d.UpdatedAt = at
	return d
}

// ValidationError reports the first invalid field of a Device or Site. It
// matches ErrInvalid with errors.Is.
type ValidationError struct {
	Field  string // JSON field name
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ValidateID checks a device or site id: 1..64 bytes of [A-Za-z0-9._-].
func ValidateID(id string) error { return checkID("id", id) }

func checkID(field, id string) error {
	if len(id) == 0 || len(id) > MaxIDLen {
		return invalid(field, "length %d not in 1..%d", len(id), MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return invalid(field, "byte %q at %d not in [A-Za-z0-9._-]", c, i)
		}
	}
	return nil
}

// checkText accepts valid UTF-8 without control characters, at most
// MaxTextLen bytes; empty only if optional.
func checkText(field, s string, optional bool) error {
	if s == "" {
		if optional {
			return nil
		}
		return invalid(field, "required")
	}
	if len(s) > MaxTextLen {
		return invalid(field, "length %d > %d", len(s), MaxTextLen)
	}
	if !utf8.ValidString(s) {
		return invalid(field, "not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalid(field, "control character %U", r)
		}
	}
	return nil
}

// checkRange accepts lo <= v <= hi (so rejects NaN).
func checkRange(field string, v, lo, hi float64) error {
	if !(v >= lo && v <= hi) {
		return invalid(field, "%v not in [%v, %v]", v, lo, hi)
	}
	return nil
}

func checkLatLon(lat, lon float64) error {
	if err := checkRange("lat", lat, -90, 90); err != nil {
		return err
	}
	return checkRange("lon", lon, -180, 180)
}

// Validate checks every field of d. The error is a *ValidationError (wrapped
// with the device id) naming the first invalid field.
func (d Device) Validate() error {
	if err := d.validate(); err != nil {
		return fmt.Errorf("device %q: %w", d.ID, err)
	}
	return nil
}

func (d Device) validate() error {
	if err := checkID("id", d.ID); err != nil {
		return err
	}
	if err := checkID("site_id", d.SiteID); err != nil {
		return err
	}
	if len(d.PublicKey) != ed25519.PublicKeySize {
		return invalid("public_key", "%d bytes, want %d", len(d.PublicKey), ed25519.PublicKeySize)
	}
	if !(d.KWp > 0 && d.KWp <= MaxKWp) {
		return invalid("kwp", "%v not in (0, %v]", d.KWp, MaxKWp)
	}
	if !(d.ACRatingW > 0 && d.ACRatingW <= MaxACW) {
		return invalid("ac_rating_w", "%v not in (0, %v]", d.ACRatingW, MaxACW)
	}
	if err := checkLatLon(d.Lat, d.Lon); err != nil {
		return err
	}
	if err := checkRange("tilt_deg", d.TiltDeg, 0, 90); err != nil {
		return err
	}
	if err := checkRange("azimuth_deg", d.AzimuthDeg, 0, 360); err != nil {
		return err
	}
	if err := checkID("grid_region", d.GridRegion); err != nil {
		return err
	}
	if err := checkText("installer", d.Installer, false); err != nil {
		return err
	}
	if err := checkText("loan_ref", d.LoanRef, true); err != nil {
		return err
	}
	switch d.Status {
	case StatusActive:
		if !d.DisabledAt.IsZero() {
			return invalid("disabled_at", "set on an active device")
		}
	case StatusDisabled:
		if d.DisabledAt.IsZero() {
			return invalid("disabled_at", "required when status is %q", StatusDisabled)
		}
	default:
		return invalid("status", "%q is neither %q nor %q", d.Status, StatusActive, StatusDisabled)
	}
	if d.CreatedAt.IsZero() {
		return invalid("created_at", "required")
	}
	if !d.UpdatedAt.IsZero() && d.UpdatedAt.Before(d.CreatedAt) {
		return invalid("updated_at", "%s before created_at %s", d.UpdatedAt.Format(time.RFC3339), d.CreatedAt.Format(time.RFC3339))
	}
	return nil
}

// Validate checks every field of s. The error is a *ValidationError (wrapped
// with the site id) naming the first invalid field.
func (s Site) Validate() error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("site %q: %w", s.ID, err)
	}
	return nil
}

func (s Site) validate() error {
	if err := checkID("id", s.ID); err != nil {
		return err
	}
	if err := checkText("name", s.Name, false); err != nil {
		return err
	}
	if err := checkText("installer", s.Installer, false); err != nil {
		return err
	}
	if err := checkID("grid_region", s.GridRegion); err != nil {
		return err
	}
	if err := checkLatLon(s.Lat, s.Lon); err != nil {
		return err
	}
	if err := checkText("loan_ref", s.LoanRef, true); err != nil {
		return err
	}
	if s.CreatedAt.IsZero() {
		return invalid("created_at", "required")
	}
	return nil
}
