// Package proofhttp serves proof bundles over HTTP: the route
//
//	GET /v1/proofs/{device_id}/{seq}
//
// answers the bundle of one anchored reading (docs/formats/proof.md §6) as
// JSON, or a JSON error {"error": "<code>", "message": "…"} (the error form
// of package httpapi): 400 for a malformed device id or seq, 404 for a
// reading that is not anchored (yet), 500 if the proof store fails a
// checksum. Handler is the route's handler, for a server that registers its
// own routes (httpapi.Config.Proofs); NewMux is a ServeMux with just this
// route, to which callers can add theirs. Handlers are safe for concurrent
// use if the ProofSource is (*anchor.Store is).
package proofhttp

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/ingest/reading"
)

// Route is the pattern Handler serves.
const Route = "GET /v1/proofs/{device_id}/{seq}"

// Error codes.
const (
	CodeNotFound         = "not_found"
	CodeBadRequest       = "bad_request"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeStoreCorrupt     = "store_corrupt"
	CodeInternal         = "internal"
)

// ProofSource builds proof bundles; *anchor.Store implements it.
type ProofSource interface {
	ProofFor(ctx context.Context, deviceID string, seq uint64) (*anchor.Bundle, error)
}

// Handler serves Route from src. It reads the path values device_id and
// seq, so it must be registered under a pattern with those wildcards.
// logger may be nil.
func Handler(src ProofSource, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	log := logger.With("component", "proofhttp")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("device_id")
		if err := reading.CheckID("device_id", id); err != nil {
			WriteError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
			return
		}
		seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
		if err != nil {
			WriteError(w, http.StatusBadRequest, CodeBadRequest, "seq must be a decimal unsigned 64-bit integer")
			return
		}
		b, err := src.ProofFor(r.Context(), id, seq)
		switch {
		case err == nil:
			// A reading's bundle does not change once it is anchored.
			w.Header().Set("Cache-Control", "public, max-age=86400")
			WriteJSON(w, http.StatusOK, b)
		case errors.Is(err, anchor.ErrNoProof), errors.Is(err, anchor.ErrNotAnchored):
			WriteError(w, http.StatusNotFound, CodeNotFound, "no anchored reading "+id+"/"+strconv.FormatUint(seq, 10))
		case r.Context().Err() != nil:
			// The client went away.
		case errors.Is(err, anchor.ErrCorrupt):
			log.Error("proof store corrupt", "device_id", id, "seq", seq, "err", err)
			WriteError(w, http.StatusInternalServerError, CodeStoreCorrupt, "the proof store failed a consistency check")
		default:
			log.Error("proof failed", "device_id", id, "seq", seq, "err", err)
			WriteError(w, http.StatusInternalServerError, CodeInternal, "could not build the proof")
		}
	})
}

// NewMux returns a ServeMux serving Route from src, answering 405 for other
// methods on it and a JSON 404 for every other path. Add routes with its
// Handle and HandleFunc: a more specific pattern wins over the catch-all.
func NewMux(src ProofSource, logger *slog.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(Route, Handler(src, logger))
	mux.HandleFunc("/v1/proofs/{device_id}/{seq}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, HEAD")
		WriteError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" is not allowed here; allowed: GET, HEAD")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, CodeNotFound, "no such route: "+r.URL.Path)
	})
	return mux
}

// ErrorBody is the JSON of an error response.
type ErrorBody struct {
	Error   string `json:"error"`   // machine-readable code
	Message string `json:"message"` // for people
}

// WriteJSON writes v as a JSON response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, CodeInternal, "could not encode the response")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// WriteError writes a JSON error response.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	h := w.Header()
	h.Del("Cache-Control")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	b, _ := json.Marshal(ErrorBody{Error: code, Message: msg})
	_, _ = w.Write(append(b, '\n'))
}
