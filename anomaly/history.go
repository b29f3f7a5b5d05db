package anomaly

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// History keeps each device's DaySummaries of its last few solar days for
// the multi-day judgements (Scanner.JudgeTrends). It holds at most Days()
// consecutive solar dates per device, ending at the device's newest, in 24
// bytes a day (10,000 devices × 14 days ≈ 3.4 MB plus one map entry per
// device); Prune forgets devices not seen for that long. Spans are kept to
// the minute. It is safe for concurrent use.
type History struct {
	days int
	mu   sync.Mutex
	dev  map[string]*devHistory
}

// devHistory is one device's days, sorted by date, all within History.days
// of the newest.
type devHistory struct {
	site string
	days []dayEntry
}

// dayEntry is a DaySummary without the ids, compacted.
type dayEntry struct {
	day          int32 // Unix day of the solar date
	fromM, toM   int16 // Span, minutes after 00:00 UTC of the date (floor, ceiling)
	piRatio, sky float32
	offMin       float32
	flags        uint8
}

const (
	entryPeerPI uint8 = 1 << iota
	entryPeerOffset
	entryClockShift
)

// NewHistory returns an empty history keeping days solar days per device
// (at least 1).
func NewHistory(days int) *History {
	return &History{days: max(days, 1), dev: map[string]*devHistory{}}
}

// LoadHistory returns a history keeping days solar days per device, filled
// with what st holds of the days before now: how the analyzer resumes after
// a restart.
func LoadHistory(ctx context.Context, st DayStore, days int, now time.Time) (*History, error) {
	h := NewHistory(days)
	sums, err := st.Load(ctx, now.Add(-time.Duration(h.days+1)*24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("load day summaries: %w", err)
	}
	h.Add(sums)
	return h, nil
}

// Days is how many solar days the history keeps per device.
func (h *History) Days() int { return h.days }

func unixDay(t time.Time) int32 { return int32(floorDiv(t.Unix(), 86400)) }

func toEntry(s *DaySummary) dayEntry {
	day := unixDay(s.Date)
	base := int64(day) * 86400
	mins := func(t time.Time, round func(float64) float64) int16 {
		return int16(clamp(round(float64(t.Unix()-base)/60), math.MinInt16, math.MaxInt16))
	}
	e := dayEntry{day: day, fromM: mins(s.Span.From, math.Floor), toM: mins(s.Span.To, math.Ceil),
		piRatio: float32(s.PIRatio), sky: float32(s.SkyIndex), offMin: float32(s.OffsetMin)}
	if s.PeerPI {
		e.flags |= entryPeerPI
	}
	if s.PeerOffset {
		e.flags |= entryPeerOffset
	}
	if s.ClockShift {
		e.flags |= entryClockShift
	}
	return e
}

func (e *dayEntry) summary(id, site string) DaySummary {
	base := int64(e.day) * 86400
	at := func(m int16) time.Time { return time.Unix(base+60*int64(m), 0).UTC() }
	return DaySummary{
		DeviceID: id, SiteID: site, Date: time.Unix(base, 0).UTC(), Span: Span{From: at(e.fromM), To: at(e.toM)},
		PIRatio: float64(e.piRatio), SkyIndex: float64(e.sky), OffsetMin: float64(e.offMin),
		PeerPI: e.flags&entryPeerPI != 0, PeerOffset: e.flags&entryPeerOffset != 0, ClockShift: e.flags&entryClockShift != 0,
	}
}

// Add records summaries. A summary replaces the device's summary of the
// same date (a later scan of a day saw at least as much of it); dates more
// than Days() before the device's newest are dropped.
func (h *History) Add(sums []DaySummary) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range sums {
		s := &sums[i]
		dh := h.dev[s.DeviceID]
		if dh == nil {
			dh = &devHistory{}
			h.dev[s.DeviceID] = dh
		}
		if s.SiteID != "" {
			dh.site = s.SiteID
		}
		e := toEntry(s)
		k, found := slices.BinarySearchFunc(dh.days, e.day, func(x dayEntry, d int32) int { return int(x.day - d) })
		if found {
			dh.days[k] = e
		} else {
			dh.days = slices.Insert(dh.days, k, e)
		}
		newest := dh.days[len(dh.days)-1].day
		cut := 0
		for cut < len(dh.days) && dh.days[cut].day <= newest-int32(h.days) {
			cut++
		}
		if cut > 0 {
			dh.days = slices.Delete(dh.days, 0, cut)
		}
	}
}

// Prune forgets the devices whose newest summary is more than Days() solar
// days before t (decommissioned, or silent for that long).
func (h *History) Prune(t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	limit := unixDay(t) - int32(h.days)
	for id, dh := range h.dev {
		if dh.days[len(dh.days)-1].day < limit {
			delete(h.dev, id)
		}
	}
}

// Device returns the device's summaries whose date is at most Days()
// before t, oldest first.
func (h *History) Device(id string, t time.Time) []DaySummary {
	h.mu.Lock()
	defer h.mu.Unlock()
	dh := h.dev[id]
	if dh == nil {
		return nil
	}
	limit := unixDay(t) - int32(h.days)
	var out []DaySummary
	for i := range dh.days {
		if dh.days[i].day >= limit {
			out = append(out, dh.days[i].summary(id, dh.site))
		}
	}
	return out
}

// Len returns the number of devices and of summaries held.
func (h *History) Len() (devices, days int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, dh := range h.dev {
		days += len(dh.days)
	}
	return len(h.dev), days
}
