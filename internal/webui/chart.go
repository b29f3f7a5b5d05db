package webui

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"time"
)

// XY is one chart point: a time and a value.
type XY struct {
	T time.Time
	V float64
}

// Line is one series of a chart.
type Line struct {
	Name  string
	Class string // CSS class: line-measured, line-expected, …
	Pts   []XY
}

// Band is a shaded range under a chart's lines.
type Band struct {
	Name   string
	Class  string
	Lo, Hi []XY // same times
}

// Chart is an inline SVG time-series chart, rendered on the server.
type Chart struct {
	Title    string
	Unit     string  // axis unit, e.g. "kW"
	Scale    float64 // value → axis unit (1/1000 for W → kW)
	From, To time.Time
	Lines    []Line
	Bands    []Band
	Bars     *Line // drawn as bars of width BarWidth
	BarWidth time.Duration
	// Threshold draws a dashed horizontal line at this value (in data
	// units) when non-zero.
	Threshold float64
	W, H      int
	// TimeFormat for x labels ("15:04" by default).
	TimeFormat string
}

const (
	padL, padR, padT, padB = 56.0, 12.0, 12.0, 28.0
)

// niceMax rounds v up to 1, 2 or 5 × 10^k.
func niceMax(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*e {
			return m * e
		}
	}
	return 10 * e
}

// SVG renders the chart. Every number comes from the data; the only text
// is the title, names and formatted numbers, all escaped.
func (c *Chart) SVG() template.HTML {
	w, h := float64(c.W), float64(c.H)
	if w == 0 {
		w = 800
	}
	if h == 0 {
		h = 240
	}
	scale := c.Scale
	if scale == 0 {
		scale = 1
	}
	maxV := c.Threshold * scale
	each := func(f func(v float64)) {
		for _, l := range c.Lines {
			for _, p := range l.Pts {
				f(p.V * scale)
			}
		}
		for _, b := range c.Bands {
			for _, p := range b.Hi {
				f(p.V * scale)
			}
		}
		if c.Bars != nil {
			for _, p := range c.Bars.Pts {
				f(p.V * scale)
			}
		}
	}
	each(func(v float64) { maxV = math.Max(maxV, v) })
	top := niceMax(maxV)
	span := c.To.Sub(c.From)
	if span <= 0 {
		span = time.Hour
	}
	x := func(t time.Time) float64 {
		return padL + (w-padL-padR)*float64(t.Sub(c.From))/float64(span)
	}
	y := func(v float64) float64 {
		v *= scale
		v = math.Max(0, math.Min(v, top))
		return h - padB - (h-padT-padB)*v/top
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		w, h, html.EscapeString(c.Title))
	// y grid and labels
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		yy := h - padB - (h-padT-padB)*float64(i)/4
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, padL, w-padR, yy, yy)
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, padL-6, yy+4, html.EscapeString(trimFloat(v)))
	}
	fmt.Fprintf(&b, `<text class="axis unit" x="4" y="%.1f">%s</text>`, padT+4, html.EscapeString(c.Unit))
	// x labels: about 6 ticks on whole hours or days
	tf := c.TimeFormat
	if tf == "" {
		tf = "15:04"
		if span > 3*24*time.Hour {
			tf = "Jan 2"
		}
	}
	step := tickStep(span)
	for t := c.From.Truncate(step).Add(step); t.Before(c.To); t = t.Add(step) {
		xx := x(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, xx, xx, padT, h-padB)
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, xx, h-padB+16, html.EscapeString(t.UTC().Format(tf)))
	}
	for _, bd := range c.Bands {
		if len(bd.Lo) == 0 || len(bd.Lo) != len(bd.Hi) {
			continue
		}
		var pts []string
		for _, p := range bd.Hi {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.T), y(p.V)))
		}
		for i := len(bd.Lo) - 1; i >= 0; i-- {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(bd.Lo[i].T), y(bd.Lo[i].V)))
		}
		fmt.Fprintf(&b, `<polygon class="%s" points="%s"><title>%s</title></polygon>`, html.EscapeString(bd.Class), strings.Join(pts, " "), html.EscapeString(bd.Name))
	}
	if c.Bars != nil {
		bw := (w - padL - padR) * float64(c.BarWidth) / float64(span)
		for _, p := range c.Bars.Pts {
			yy := y(p.V)
			fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s %s</title></rect>`,
				html.EscapeString(c.Bars.Class), x(p.T)+0.5, yy, math.Max(bw-1, 1), h-padB-yy,
				html.EscapeString(p.T.UTC().Format("Jan 2 15:04")), html.EscapeString(trimFloat(p.V*scale)+" "+c.Unit))
		}
	}
	for _, l := range c.Lines {
		if len(l.Pts) == 0 {
			continue
		}
		var d strings.Builder
		for i, p := range l.Pts {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f", cmd, x(p.T), y(p.V))
		}
		fmt.Fprintf(&b, `<path class="%s" d="%s"><title>%s</title></path>`, html.EscapeString(l.Class), d.String(), html.EscapeString(l.Name))
	}
	if c.Threshold != 0 {
		yy := y(c.Threshold)
		fmt.Fprintf(&b, `<line class="threshold" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, padL, w-padR, yy, yy)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func tickStep(span time.Duration) time.Duration {
	for _, s := range []time.Duration{15 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
		if span/s <= 8 {
			return s
		}
	}
	return 30 * 24 * time.Hour
}

// trimFloat formats v with at most 2 decimals and no trailing zeros.
func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
