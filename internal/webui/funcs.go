package webui

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/sunproof/sunproof/internal/httpapi"
)

var funcs = template.FuncMap{
	"stepParam": httpapi.StepName,
	// kw formats watts as kW with 2 decimals.
	"kw": func(w float64) string { return fmt.Sprintf("%.2f kW", w/1000) },
	// kwh formats watt-hours as kWh with 2 decimals.
	"kwh": func(wh uint64) string { return fmt.Sprintf("%.2f kWh", float64(wh)/1000) },
	"num": func(v float64, dec int) string { return fmt.Sprintf("%.*f", dec, v) },
	// when formats a time in UTC.
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"whenp": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"hhmm": func(t time.Time) string { return t.UTC().Format("15:04") },
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		d := now.Sub(t).Round(time.Minute)
		if d < time.Minute {
			return "just now"
		}
		return d.String() + " ago"
	},
	// short abbreviates a hash: 0x1234…cdef.
	"short": func(s string) string {
		if len(s) <= 14 {
			return s
		}
		return s[:8] + "…" + s[len(s)-6:]
	},
	"deref": func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	},
	"derefF": func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	},
	"title": func(s string) string {
		s = strings.ReplaceAll(s, "_", " ")
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"stepLabel": func(s string) string {
		return map[string]string{
			"decode": "Decode the bundle", "device_key": "Device key", "signature": "Device signature",
			"leaf": "Leaf and device range", "window_root": "Window root", "batch_root": "Batch root",
			"anchor": "On-chain anchor", "report": "Report figures",
		}[s]
	},
	// txLink is where a transaction links to: the explorer when the server
	// has one, else the UI's own page of the anchoring interval.
	"txLink": func(txURL string, intervalStartMS int64) string {
		if txURL == "" || strings.HasPrefix(txURL, "/v1/") {
			return fmt.Sprintf("/anchors/%d", intervalStartMS)
		}
		return txURL
	},
}
