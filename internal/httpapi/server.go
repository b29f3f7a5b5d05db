package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
)

// Server is the API: its routes, the data behind them, and the checks
// every request goes through. The web UI (package webui) calls its data
// methods with the UI user's principal, so pages and API see the same
// numbers under the same rules.
type Server struct {
	cfg    Config
	log    *slog.Logger
	routes []route
	mux    *http.ServeMux
}

// route is one (method, path) of the API. Path uses OpenAPI / ServeMux
// wildcard syntax.
type route struct {
	method string
	path   string
	roles  []Role // nil: public
	handle func(w http.ResponseWriter, r *http.Request, p *Principal)
}

// Route describes a registered route, for documentation and tests.
type Route struct {
	Method string
	Path   string
	Roles  []Role // empty: public
}

// New returns the API's handler: every route under /v1/.
func New(cfg Config) (http.Handler, error) {
	s, err := NewServer(cfg)
	if err != nil {
		return nil, err
	}
	return s.Handler(), nil
}

// NewServer returns the API server.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "httpapi")}
	if _, err := openAPIJSON(); err != nil {
		return nil, err
	}
	readers := []Role{RoleAdmin, RoleInstaller, RoleBank}
	all := Roles
	s.routes = []route{
		{"GET", "/v1/openapi.json", nil, s.getOpenAPI},
		{"GET", "/v1/health", nil, s.getHealth},
		{"POST", "/v1/verify", nil, s.postVerify},
		{"GET", "/v1/me", all, s.getMe},
		{"GET", "/v1/fleet", readers, s.getFleet},
		{"GET", "/v1/fleet/power", readers, s.getFleetPower},
		{"GET", "/v1/sites", readers, s.getSites},
		{"GET", "/v1/sites/{site_id}", readers, s.getSite},
		{"GET", "/v1/devices", all, s.getDevices},
		{"GET", "/v1/devices/{device_id}", all, s.getDevice},
		{"GET", "/v1/devices/{device_id}/readings", readers, s.getReadings},
		{"GET", "/v1/devices/{device_id}/windows", all, s.getDeviceWindows},
		{"GET", "/v1/alerts", readers, s.getAlerts},
		{"GET", "/v1/anchors", all, s.getAnchors},
		{"GET", "/v1/anchors/{interval_start_ms}", all, s.getAnchor},
		{"GET", "/v1/proofs/{device_id}/{seq}", all, s.getProof},
		{"GET", "/v1/carbon/reports", all, s.getCarbonReports},
		{"GET", "/v1/carbon/reports/{report_id}", all, s.getCarbonReport},
		{"GET", "/v1/loans", []Role{RoleAdmin, RoleBank}, s.getLoans},
		{"GET", "/v1/loans/{loan_ref}", []Role{RoleAdmin, RoleBank}, s.getLoan},
	}
	s.mux = http.NewServeMux()
	byPath := map[string][]route{}
	var paths []string
	for _, rt := range s.routes {
		if _, ok := byPath[rt.path]; !ok {
			paths = append(paths, rt.path)
		}
		byPath[rt.path] = append(byPath[rt.path], rt)
	}
	for _, p := range paths {
		s.mux.Handle(p, s.dispatch(byPath[p]))
	}
	s.mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such API route: "+r.URL.Path)
	})
	return s, nil
}

// Routes lists the registered routes.
func (s *Server) Routes() []Route {
	out := make([]Route, len(s.routes))
	for i, rt := range s.routes {
		out[i] = Route{Method: rt.method, Path: rt.path, Roles: slices.Clone(rt.roles)}
	}
	return out
}

// Config returns the server's configuration, defaults applied.
func (s *Server) Config() Config { return s.cfg }

// Handler serves /v1/ (anything else is a JSON 404).
func (s *Server) Handler() http.Handler {
	return s.recoverer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			writeError(w, http.StatusNotFound, "not_found", "no such API route: "+r.URL.Path)
			return
		}
		s.mux.ServeHTTP(w, r)
	}))
}

// dispatch serves one path: it picks the route by method (HEAD is GET
// without a body), answers 405 for other methods, then authenticates and
// authorises before the route's handler runs.
func (s *Server) dispatch(rts []route) http.Handler {
	var allow []string
	for _, rt := range rts {
		allow = append(allow, rt.method)
		if rt.method == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	allowHdr := strings.Join(allow, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := r.Method
		if m == http.MethodHead {
			m = http.MethodGet
		}
		i := slices.IndexFunc(rts, func(rt route) bool { return rt.method == m })
		if i < 0 {
			w.Header().Set("Allow", allowHdr)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not allowed here; allowed: %s", r.Method, allowHdr))
			return
		}
		rt := rts[i]
		if rt.roles == nil {
			rt.handle(w, r, nil)
			return
		}
		p, err := s.cfg.Tokens.AuthenticateRequest(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sunproof"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
			return
		}
		if !slices.Contains(rt.roles, p.Role) {
			writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("role %s may not %s %s", p.Role, rt.method, rt.path))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		rt.handle(w, r, &p)
	})
}

func (s *Server) recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "err", fmt.Sprint(v))
				writeError(w, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// ErrorBody is every error response's JSON.
type ErrorBody struct {
	Error   string `json:"error"`   // machine-readable code
	Message string `json:"message"` // for people
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, ErrorBody{Error: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"internal","message":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte{'\n'})
}

// Error is an error with its HTTP status; the data methods return it for
// bad input, missing objects and unavailable sources.
type Error struct {
	Status int
	Code   string
	Msg    string
	Err    error // cause, logged, not shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

func badRequest(format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_request", Msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Msg: fmt.Sprintf(format, args...)}
}

func unavailable(what string, err error) error {
	if err == nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Msg: what + " is not configured on this server"}
	}
	return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Msg: what + " is unavailable", Err: err}
}

// StatusOf returns the HTTP status and code for an error of a data method.
func StatusOf(err error) (int, string) {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Status, e.Code
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, "not_found"
	}
	return http.StatusInternalServerError, "internal"
}

// fail writes err as the response.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code := StatusOf(err)
	msg := err.Error()
	var e *Error
	if errors.As(err, &e) {
		msg = e.Msg
	}
	if status >= 500 {
		s.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		if status == http.StatusInternalServerError {
			msg = "internal error"
		}
	}
	writeError(w, status, code, msg)
}

// reply writes v, or err.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
