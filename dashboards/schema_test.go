package dashboards

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/ingest/tsdbwriter"
)

// alertLine is the line protocol of one alert in the measurement "alert".
//
// ASSUMPTION, to replace with the writer's own output as soon as it exists:
// package anomaly defines Alert (anomaly/alert.go) but nothing writes alerts
// to InfluxDB yet (`sunproof analyze` is in progress). The dashboards assume
// one point per alert, upserted at the alert's Start (its identity in stores)
// so that its state changes overwrite it, with the tags that do not change
// over an alert's life (device_id, site_id, type) and the rest as fields.
// When anomaly gains its line encoder, build this line with it, as
// readingSchema does with tsdbwriter.AppendLine, and the dashboards follow.
//
// Only what the dashboards use is assumed: tags device_id, site_id, type
// (anomaly.Type); string fields severity (info|warning|critical), state
// (open|resolved), anchored (anomaly.Anchoring) and summary.
const alertLine = `alert,device_id=d,site_id=s,type=zero_output ` +
	`severity="critical",state="open",anchored="anchored",summary="no output in daylight" ` +
	`1700000000000000000`

// liveSchema returns the measurements the Sunproof services write, derived
// from their code where the code exists.
func liveSchema(t testing.TB) schema {
	t.Helper()
	s := schema{}
	r := reading.Reading{DeviceID: "dev-1", SiteID: "site-1", Seq: 7, TimeMS: 1_700_000_000_000,
		Measurement: reading.Measurement{ACPowerW: 1234.5, EnergyWh: 987654, ACVoltageV: 230.1, FrequencyHz: 50.01,
			PowerFactor: 0.99, DCVoltageV: 380.2, DCCurrentA: 3.3, DCPowerW: 1260.7, TempC: 41.5,
			State: reading.StateMPPT, Events: reading.EvtOverTemp}}
	for _, line := range []string{string(tsdbwriter.AppendLine(nil, &r)), alertLine} {
		m, names, err := parseLine(line)
		if err != nil {
			t.Fatalf("line protocol %q: %v", line, err)
		}
		if s[m] == nil {
			s[m] = map[string]kind{}
		}
		for n, k := range names {
			if old, ok := s[m][n]; ok && old != k {
				t.Fatalf("%s.%s is both a %s and a %s", m, n, old, k)
			}
			s[m][n] = k
		}
	}
	return s
}

// parseLine parses one InfluxDB line-protocol point into its measurement and
// the kinds of its tags and fields.
func parseLine(line string) (string, map[string]kind, error) {
	parts := splitUnquoted(line, ' ')
	if len(parts) < 2 || len(parts) > 3 {
		return "", nil, fmt.Errorf("want 'measurement[,tags] fields [time]', got %d parts", len(parts))
	}
	head := splitUnquoted(parts[0], ',')
	names := map[string]kind{}
	for _, tag := range head[1:] {
		k, _, ok := strings.Cut(tag, "=")
		if !ok || k == "" {
			return "", nil, fmt.Errorf("tag %q", tag)
		}
		names[unescape(k)] = kindTag
	}
	for _, f := range splitUnquoted(parts[1], ',') {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" || v == "" {
			return "", nil, fmt.Errorf("field %q", f)
		}
		if _, dup := names[unescape(k)]; dup {
			return "", nil, fmt.Errorf("%q is both a tag and a field", k)
		}
		var fk kind
		switch {
		case strings.HasPrefix(v, `"`):
			fk = kindString
		case strings.HasSuffix(v, "i") || strings.HasSuffix(v, "u"):
			fk = kindInt
		case v == "t" || v == "T" || v == "true" || v == "True" || v == "TRUE" ||
			v == "f" || v == "F" || v == "false" || v == "False" || v == "FALSE":
			fk = kindBool
		default:
			fk = kindFloat
		}
		names[unescape(k)] = fk
	}
	return unescape(head[0]), names, nil
}

// splitUnquoted splits s at sep outside double quotes and not escaped.
func splitUnquoted(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++
		case s[i] == '"':
			quoted = !quoted
		case s[i] == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func unescape(s string) string {
	return strings.NewReplacer(`\,`, ",", `\ `, " ", `\=`, "=").Replace(s)
}

func TestLiveSchemaMatchesFormatDoc(t *testing.T) {
	// docs/formats/influx.md is the contract readers rely on; the code is
	// what is true. Both must agree with what the dashboards assume.
	s := liveSchema(t)
	want := map[string]kind{
		"device_id": kindTag, "site_id": kindTag,
		"seq": kindInt, "energy_wh": kindInt, "state": kindInt, "events": kindInt,
		"ac_power_w": kindFloat, "ac_voltage_v": kindFloat, "frequency_hz": kindFloat, "power_factor": kindFloat,
		"dc_voltage_v": kindFloat, "dc_current_a": kindFloat, "dc_power_w": kindFloat, "temp_c": kindFloat,
	}
	got := s[tsdbwriter.Measurement]
	if len(got) != len(want) {
		t.Errorf("measurement %q has %d names, docs/formats/influx.md lists %d", tsdbwriter.Measurement, len(got), len(want))
	}
	for n, k := range want {
		if got[n] != k {
			t.Errorf("%s.%s: got %v, want %v (docs/formats/influx.md)", tsdbwriter.Measurement, n, got[n], k)
		}
	}
}

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		desc, line string
		want       map[string]kind
		wantErr    bool
	}{
		{"types", `m,a=1 i=1i,u=2u,f=1.5,g=2,s="x,y z",b=t 1`,
			map[string]kind{"a": kindTag, "i": kindInt, "u": kindInt, "f": kindFloat, "g": kindFloat, "s": kindString, "b": kindBool}, false},
		{"no tags, no time", `m x=1`, map[string]kind{"x": kindFloat}, false},
		{"escaped", `m,a\ b=1 c\,d=1i`, map[string]kind{"a b": kindTag, "c,d": kindInt}, false},
		{"tag and field", `m,a=1 a=1`, nil, true},
		{"no fields", `m,a=1`, nil, true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, got, err := parseLine(tc.line)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for n, k := range tc.want {
				if got[n] != k {
					t.Errorf("%s: got %v, want %v", n, got[n], k)
				}
			}
		})
	}
}
