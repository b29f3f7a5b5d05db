package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/devices"
)

// query parameter parsing: every malformed value is a 400.

// queryValue returns a query parameter; present but empty is a 400 (an
// empty string is no valid value of any parameter).
func queryValue(q url.Values, name string) (string, bool, error) {
	if !q.Has(name) {
		return "", false, nil
	}
	v := q.Get(name)
	if v == "" {
		return "", false, badRequest("%s is empty", name)
	}
	return v, true, nil
}

func queryTime(q url.Values, name string) (time.Time, error) {
	v, ok, err := queryValue(q, name)
	if !ok {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badRequest("%s %q: want an RFC 3339 time such as 2025-06-01T00:00:00Z", name, v)
	}
	return t, nil
}

func queryInt(q url.Values, name string, def, lo, hi int64) (int64, error) {
	v, ok, err := queryValue(q, name)
	if !ok {
		return def, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s %q: want an integer in %d..%d", name, v, lo, hi)
	}
	return n, nil
}

func seriesQuery(r *http.Request, withStep bool) (SeriesQuery, error) {
	q := r.URL.Query()
	var sq SeriesQuery
	var err error
	if sq.From, err = queryTime(q, "from"); err != nil {
		return sq, err
	}
	if sq.To, err = queryTime(q, "to"); err != nil {
		return sq, err
	}
	v, ok, err := queryValue(q, "step")
	if err != nil {
		return sq, err
	}
	if ok && withStep {
		d, ok := Steps[v]
		if !ok {
			return sq, badRequest("step %q: want one of 1m, 5m, 10m, 15m, 30m, 1h, 2h, 3h, 6h, 12h, 24h", v)
		}
		sq.Step = d
	}
	return sq, nil
}

// queryID reads an optional id filter; a value that can't be an id is a 400.
func queryID(q url.Values, name string) (string, error) {
	v, ok, err := queryValue(q, name)
	if !ok {
		return "", err
	}
	if err := devices.ValidateID(v); err != nil {
		return "", badRequest("%s %q: want 1 to 64 characters of [A-Za-z0-9._-]", name, v)
	}
	return v, nil
}

// checkID rejects ids that can't be registry ids, so that they never reach
// a query.
func checkID(kind, id string) error {
	if err := devices.ValidateID(id); err != nil {
		return notFound("no %s %q", kind, id)
	}
	return nil
}

func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request, _ *Principal) {
	b, err := openAPIJSON()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(b)
}

// Health is GET /v1/health.
type Health struct {
	Status  string          `json:"status"` // "ok"
	Time    time.Time       `json:"time"`
	Sources map[string]bool `json:"sources"` // which optional sources are configured
	Devices int             `json:"devices"`
	Verify  string          `json:"verify"` // online or offline
}

// Health reports what the server is wired to.
func (s *Server) Health() Health {
	h := Health{Status: "ok", Time: s.cfg.Now().UTC(), Devices: len(s.cfg.Devices.Devices()), Verify: "offline",
		Sources: map[string]bool{
			"readings": s.cfg.Readings != nil, "alerts": s.cfg.Alerts != nil, "anchors": s.cfg.Anchors != nil,
			"proofs": s.cfg.Proofs != nil || s.cfg.ProofSource != nil, "carbon": s.cfg.Carbon != nil,
			"loans": s.cfg.Loans != nil, "report_checker": s.cfg.Reports != nil,
		}}
	if s.cfg.Chain != nil {
		h.Verify = "online"
	}
	return h
}

func (s *Server) getHealth(w http.ResponseWriter, r *http.Request, _ *Principal) {
	writeJSON(w, http.StatusOK, s.Health())
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request, p *Principal) {
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) getFleet(w http.ResponseWriter, r *http.Request, p *Principal) {
	f, err := s.Fleet(r.Context(), p)
	s.reply(w, r, f, err)
}

func (s *Server) getFleetPower(w http.ResponseWriter, r *http.Request, p *Principal) {
	q, err := seriesQuery(r, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.FleetPower(r.Context(), p, q)
	s.reply(w, r, f, err)
}

// List is the envelope of list responses.
type List[T any] struct {
	Items []T `json:"items"`
}

func (s *Server) getSites(w http.ResponseWriter, r *http.Request, p *Principal) {
	writeJSON(w, http.StatusOK, List[Site]{s.Sites(p)})
}

func (s *Server) getSite(w http.ResponseWriter, r *http.Request, p *Principal) {
	id := r.PathValue("site_id")
	if err := checkID("site", id); err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.Site(p, id)
	s.reply(w, r, st, err)
}

func (s *Server) getDevices(w http.ResponseWriter, r *http.Request, p *Principal) {
	site, err := queryID(r.URL.Query(), "site_id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, List[Device]{s.Devices(p, site)})
}

func (s *Server) getDevice(w http.ResponseWriter, r *http.Request, p *Principal) {
	id := r.PathValue("device_id")
	if err := checkID("device", id); err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.Device(p, id)
	s.reply(w, r, d, err)
}

func (s *Server) getReadings(w http.ResponseWriter, r *http.Request, p *Principal) {
	id := r.PathValue("device_id")
	if err := checkID("device", id); err != nil {
		s.fail(w, r, err)
		return
	}
	q, err := seriesQuery(r, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.Readings(r.Context(), p, id, q)
	s.reply(w, r, out, err)
}

func (s *Server) getDeviceWindows(w http.ResponseWriter, r *http.Request, p *Principal) {
	id := r.PathValue("device_id")
	if err := checkID("device", id); err != nil {
		s.fail(w, r, err)
		return
	}
	q, err := seriesQuery(r, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.DeviceWindows(r.Context(), p, id, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, List[DeviceWindow]{out})
}

func (s *Server) getAlerts(w http.ResponseWriter, r *http.Request, p *Principal) {
	q := r.URL.Query()
	limit, err := queryInt(q, "limit", 1000, 1, 10000)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	dev, err := queryID(q, "device_id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	site, err := queryID(q, "site_id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	state, _, err := queryValue(q, "state")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.Alerts(r.Context(), p, AlertQuery{State: state, DeviceID: dev, SiteID: site, Limit: int(limit)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, List[Alert]{out})
}

func (s *Server) getAnchors(w http.ResponseWriter, r *http.Request, p *Principal) {
	q := r.URL.Query()
	limit, err := queryInt(q, "limit", 50, 1, 1000)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	before, err := queryInt(q, "before_ms", 0, 0, 1<<53-1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.Anchors(int(limit), before)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, List[Anchor]{out})
}

func (s *Server) getAnchor(w http.ResponseWriter, r *http.Request, p *Principal) {
	v := r.PathValue("interval_start_ms")
	start, err := strconv.ParseInt(v, 10, 64)
	if err != nil || start < 0 {
		s.fail(w, r, badRequest("interval_start_ms %q: want a non-negative integer (Unix ms)", v))
		return
	}
	out, err := s.Anchor(start)
	s.reply(w, r, out, err)
}

// Proof returns the proof bundle of a reading of a device p sees.
func (s *Server) Proof(ctx context.Context, p *Principal, deviceID string, seq uint64) (*anchor.Bundle, error) {
	if _, err := s.device(p, deviceID); err != nil {
		return nil, err
	}
	if s.cfg.ProofSource == nil {
		return nil, unavailable("proofs", nil)
	}
	b, err := s.cfg.ProofSource.ProofFor(ctx, deviceID, seq)
	switch {
	case errors.Is(err, anchor.ErrNoProof) || errors.Is(err, ErrNotFound):
		return nil, notFound("no anchored reading %s/%d", deviceID, seq)
	case err != nil:
		return nil, unavailable("proofs", err)
	}
	return b, nil
}

func (s *Server) getProof(w http.ResponseWriter, r *http.Request, p *Principal) {
	id, v := r.PathValue("device_id"), r.PathValue("seq")
	if err := checkID("device", id); err != nil {
		s.fail(w, r, err)
		return
	}
	seq, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		s.fail(w, r, badRequest("seq %q: want an unsigned integer", v))
		return
	}
	if _, err := s.device(p, id); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.cfg.Proofs != nil {
		s.cfg.Proofs.ServeHTTP(w, r)
		return
	}
	b, err := s.Proof(r.Context(), p, id, seq)
	s.reply(w, r, b, err)
}

func (s *Server) getCarbonReports(w http.ResponseWriter, r *http.Request, p *Principal) {
	out, err := s.CarbonReports(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, List[CarbonReport]{out})
}

func (s *Server) getCarbonReport(w http.ResponseWriter, r *http.Request, p *Principal) {
	id := r.PathValue("report_id")
	if len(id) == 0 || len(id) > 200 {
		s.fail(w, r, notFound("no carbon report %q", id))
		return
	}
	_, doc, err := s.CarbonReport(r.Context(), p, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", "carbon-report-"+safeName(id)+".json"))
	w.Write(doc)
}

// safeName keeps [A-Za-z0-9._-] of s.
func safeName(s string) string {
	b := []byte(s)
	out := b[:0]
	for _, c := range b {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' {
			out = append(out, c)
		}
	}
	return string(out)
}

func (s *Server) getLoans(w http.ResponseWriter, r *http.Request, p *Principal) {
	out, err := s.Loans(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, List[LoanView]{out})
}

func (s *Server) getLoan(w http.ResponseWriter, r *http.Request, p *Principal) {
	out, err := s.Loan(r.Context(), p, r.PathValue("loan_ref"))
	s.reply(w, r, out, err)
}
