package reading

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// Format constants. See docs/formats/reading.md.
const (
	Magic          = "SPRD"
	Version   byte = 1
	MaxIDLen       = 64
	SigSize        = ed25519.SignatureSize
	fixedSize      = 4 + 1 + 1 + 1 + 8 + 8 + 8 + 8*numFloats + 2 + 4
	numFloats      = 8
	// MaxWireSize is the largest wire message a valid reading can have.
	MaxWireSize = fixedSize + 2*MaxIDLen + SigSize
)

// SunSpec operating states (model 101/103 St).
const (
	StateOff          uint16 = 1
	StateSleeping     uint16 = 2
	StateStarting     uint16 = 3
	StateMPPT         uint16 = 4
	StateThrottled    uint16 = 5
	StateShuttingDown uint16 = 6
	StateFault        uint16 = 7
	StateStandby      uint16 = 8
)

// SunSpec Evt1 bits.
const (
	EvtGroundFault     uint32 = 1 << 0
	EvtDCOverVolt      uint32 = 1 << 1
	EvtACDisconnect    uint32 = 1 << 2
	EvtDCDisconnect    uint32 = 1 << 3
	EvtGridDisconnect  uint32 = 1 << 4
	EvtCabinetOpen     uint32 = 1 << 5
	EvtManualShutdown  uint32 = 1 << 6
	EvtOverTemp        uint32 = 1 << 7
	EvtOverFrequency   uint32 = 1 << 8
	EvtUnderFrequency  uint32 = 1 << 9
	EvtACOverVolt      uint32 = 1 << 10
	EvtACUnderVolt     uint32 = 1 << 11
	EvtBlownStringFuse uint32 = 1 << 12
	EvtUnderTemp       uint32 = 1 << 13
	EvtMemoryLoss      uint32 = 1 << 14
	EvtHWTestFailure   uint32 = 1 << 15
)

// Measurement is what an inverter source reports at one instant.
type Measurement struct {
	ACPowerW    float64 // SunSpec W
	EnergyWh    uint64  // SunSpec WH, lifetime AC energy counter
	ACVoltageV  float64 // SunSpec PhVphA (single phase) or mean phase voltage
	FrequencyHz float64 // SunSpec Hz
	PowerFactor float64 // SunSpec PF, -1..1
	DCVoltageV  float64 // SunSpec DCV
	DCCurrentA  float64 // SunSpec DCA
	DCPowerW    float64 // SunSpec DCW
	TempC       float64 // SunSpec TmpCab (or the hottest sensor)
	State       uint16  // SunSpec St
	Events      uint32  // SunSpec Evt1
}

// Reading is one signed measurement of one device.
type Reading struct {
	DeviceID string
	SiteID   string
	Seq      uint64 // per-device, strictly increasing, survives restarts
	TimeMS   int64  // Unix time in milliseconds, UTC
	Measurement
	Sig []byte // Ed25519 signature over CanonicalBytes; nil if unsigned
}

// Time returns the reading's timestamp.
func (r *Reading) Time() time.Time { return time.UnixMilli(r.TimeMS).UTC() }

// Key identifies a reading: (device id, seq) is unique for a valid device.
type Key struct {
	DeviceID string
	Seq      uint64
}

// Key returns the reading's identity.
func (r *Reading) Key() Key { return Key{r.DeviceID, r.Seq} }

func (k Key) String() string { return fmt.Sprintf("%s/%d", k.DeviceID, k.Seq) }

func (m *Measurement) floats() [numFloats]float64 {
	return [numFloats]float64{m.ACPowerW, m.ACVoltageV, m.FrequencyHz, m.PowerFactor,
		m.DCVoltageV, m.DCCurrentA, m.DCPowerW, m.TempC}
}

func (m *Measurement) setFloats(f [numFloats]float64) {
	m.ACPowerW, m.ACVoltageV, m.FrequencyHz, m.PowerFactor = f[0], f[1], f[2], f[3]
	m.DCVoltageV, m.DCCurrentA, m.DCPowerW, m.TempC = f[4], f[5], f[6], f[7]
}

// CanonicalSize returns the length of r's canonical bytes.
func (r *Reading) CanonicalSize() int { return fixedSize + len(r.DeviceID) + len(r.SiteID) }

// AppendCanonical appends r's canonical bytes (the signed message) to dst.
// It fails if an identifier is invalid or a value is NaN or infinite.
func (r *Reading) AppendCanonical(dst []byte) ([]byte, error) {
	if err := CheckID("device_id", r.DeviceID); err != nil {
		return dst, err
	}
	if err := CheckID("site_id", r.SiteID); err != nil {
		return dst, err
	}
	fs := r.floats()
	for i, f := range fs {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return dst, newError(ReasonNaNInf, "%s is %v", floatNames[i], f)
		}
	}
	dst = append(dst, Magic...)
	dst = append(dst, Version)
	dst = append(dst, byte(len(r.DeviceID)))
	dst = append(dst, r.DeviceID...)
	dst = append(dst, byte(len(r.SiteID)))
	dst = append(dst, r.SiteID...)
	dst = binary.BigEndian.AppendUint64(dst, r.Seq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.TimeMS))
	dst = binary.BigEndian.AppendUint64(dst, r.EnergyWh)
	for _, f := range fs {
		if f == 0 {
			f = 0 // -0 is written as +0
		}
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(f))
	}
	dst = binary.BigEndian.AppendUint16(dst, r.State)
	dst = binary.BigEndian.AppendUint32(dst, r.Events)
	return dst, nil
}

// CanonicalBytes returns the bytes a device signs.
func (r *Reading) CanonicalBytes() ([]byte, error) {
	return r.AppendCanonical(make([]byte, 0, r.CanonicalSize()))
}

// Sign sets r.Sig to the Ed25519 signature of r's canonical bytes.
func (r *Reading) Sign(key ed25519.PrivateKey) error {
	c, err := r.CanonicalBytes()
	if err != nil {
		return err
	}
	r.Sig = ed25519.Sign(key, c)
	return nil
}

// Verify checks r.Sig against pub. The error has ReasonBadSignature.
func (r *Reading) Verify(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return newError(ReasonBadSignature, "public key has %d bytes", len(pub))
	}
	if len(r.Sig) != SigSize {
		return newError(ReasonBadSignature, "signature has %d bytes", len(r.Sig))
	}
	c, err := r.CanonicalBytes()
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, c, r.Sig) {
		return newError(ReasonBadSignature, "signature does not verify for device %s", r.DeviceID)
	}
	return nil
}

// AppendWire appends r's wire form (canonical bytes ‖ signature) to dst.
func (r *Reading) AppendWire(dst []byte) ([]byte, error) {
	if len(r.Sig) != SigSize {
		return dst, newError(ReasonMalformed, "reading %s is not signed", r.Key())
	}
	dst, err := r.AppendCanonical(dst)
	if err != nil {
		return dst, err
	}
	return append(dst, r.Sig...), nil
}

// Wire returns r's wire form: the MQTT payload, the Kafka record value and
// the Merkle leaf data.
func (r *Reading) Wire() ([]byte, error) {
	return r.AppendWire(make([]byte, 0, r.CanonicalSize()+SigSize))
}

// LeafHash returns the RFC 9162 leaf hash SHA-256(0x00 ‖ wire) of a wire message.
func LeafHash(wire []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(wire)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

var floatNames = [numFloats]string{"ac_power_w", "ac_voltage_v", "frequency_hz", "power_factor",
	"dc_voltage_v", "dc_current_a", "dc_power_w", "temp_c"}

// Decode parses a wire message. It checks framing, identifiers and NaN/Inf,
// not the signature or the values' plausibility (see Check and Verify).
// Sig aliases b's last 64 bytes; copy b if it will be reused.
func Decode(b []byte) (Reading, error) {
	var r Reading
	if len(b) > MaxWireSize {
		return r, newError(ReasonOversized, "%d bytes, at most %d allowed", len(b), MaxWireSize)
	}
	if len(b) < fixedSize+2+SigSize {
		return r, newError(ReasonMalformed, "%d bytes, too short for a reading", len(b))
	}
	if string(b[:4]) != Magic {
		return r, newError(ReasonMalformed, "bad magic %q", b[:4])
	}
	if b[4] != Version {
		return r, newError(ReasonMalformed, "unsupported version %d", b[4])
	}
	p := 5
	readID := func(name string) (string, error) {
		n := int(b[p])
		p++
		if p+n > len(b) {
			return "", newError(ReasonMalformed, "%s length %d runs past the end", name, n)
		}
		s := string(b[p : p+n])
		p += n
		return s, CheckID(name, s)
	}
	var err error
	if r.DeviceID, err = readID("device_id"); err != nil {
		return r, err
	}
	if r.SiteID, err = readID("site_id"); err != nil {
		return r, err
	}
	want := fixedSize + len(r.DeviceID) + len(r.SiteID) + SigSize
	if len(b) != want {
		return r, newError(ReasonMalformed, "%d bytes, want %d for these identifiers", len(b), want)
	}
	r.Seq = binary.BigEndian.Uint64(b[p:])
	r.TimeMS = int64(binary.BigEndian.Uint64(b[p+8:]))
	r.EnergyWh = binary.BigEndian.Uint64(b[p+16:])
	p += 24
	var fs [numFloats]float64
	for i := range fs {
		bits := binary.BigEndian.Uint64(b[p:])
		f := math.Float64frombits(bits)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return r, newError(ReasonNaNInf, "%s is %v", floatNames[i], f)
		}
		if bits == 1<<63 {
			return r, newError(ReasonMalformed, "%s is -0, which the canonical form writes as +0", floatNames[i])
		}
		fs[i] = f
		p += 8
	}
	r.setFloats(fs)
	r.State = binary.BigEndian.Uint16(b[p:])
	r.Events = binary.BigEndian.Uint32(b[p+2:])
	p += 6
	r.Sig = b[p : p+SigSize]
	return r, nil
}

// CheckID reports whether s is a valid device or site identifier:
// 1 to 64 bytes of [A-Za-z0-9._-]. Such ids are safe as MQTT topic levels,
// Kafka keys and InfluxDB tag values.
func CheckID(name, s string) error {
	if len(s) == 0 || len(s) > MaxIDLen {
		return newError(ReasonSchema, "%s must have 1 to %d characters, has %d", name, MaxIDLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return newError(ReasonSchema, "%s has a character outside [A-Za-z0-9._-] at byte %d", name, i)
		}
	}
	return nil
}
