package proofhttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/internal/proofhttp"
)

// fakeProofs has a bundle for inv-001/1 only; devices "corrupt" and
// "broken" fail.
type fakeProofs struct{}

func (fakeProofs) ProofFor(_ context.Context, id string, seq uint64) (*anchor.Bundle, error) {
	switch {
	case id == "inv-001" && seq == 1:
		return &anchor.Bundle{Format: anchor.BundleFormat, Version: anchor.BundleVersion, Device: anchor.DeviceRef{DeviceID: id}}, nil
	case id == "corrupt":
		return nil, fmt.Errorf("window x: %w", anchor.ErrCorrupt)
	case id == "broken":
		return nil, errors.New("disk on fire")
	}
	return nil, fmt.Errorf("%s/%d: %w", id, seq, anchor.ErrNoProof)
}

func TestMux(t *testing.T) {
	srv := httptest.NewServer(proofhttp.NewMux(fakeProofs{}, nil))
	defer srv.Close()
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/v1/proofs/inv-001/1", 200, ""},
		{"HEAD", "/v1/proofs/inv-001/1", 200, ""},
		{"GET", "/v1/proofs/inv-001/2", 404, proofhttp.CodeNotFound},
		{"GET", "/v1/proofs/inv-009/1", 404, proofhttp.CodeNotFound},
		{"GET", "/v1/proofs/inv-001/-1", 400, proofhttp.CodeBadRequest},
		{"GET", "/v1/proofs/inv-001/18446744073709551616", 400, proofhttp.CodeBadRequest},
		{"GET", "/v1/proofs/inv-001/x", 400, proofhttp.CodeBadRequest},
		{"GET", "/v1/proofs/inv%20001/1", 400, proofhttp.CodeBadRequest},
		{"GET", "/v1/proofs/corrupt/1", 500, proofhttp.CodeStoreCorrupt},
		{"GET", "/v1/proofs/broken/1", 500, proofhttp.CodeInternal},
		{"POST", "/v1/proofs/inv-001/1", 405, proofhttp.CodeMethodNotAllowed},
		{"GET", "/v1/proofs/inv-001", 404, proofhttp.CodeNotFound},
		{"GET", "/nope", 404, proofhttp.CodeNotFound},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if got := resp.StatusCode; got != tc.status {
				t.Errorf("status %d, want %d", got, tc.status)
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
				t.Errorf("content type %q", got)
			}
			if tc.method == "HEAD" {
				return
			}
			if tc.code == "" {
				var b anchor.Bundle
				if err := json.NewDecoder(resp.Body).Decode(&b); err != nil || b.Format != anchor.BundleFormat || b.Device.DeviceID != "inv-001" {
					t.Errorf("bundle %+v, %v", b, err)
				}
				return
			}
			var e proofhttp.ErrorBody
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatal(err)
			}
			if e.Error != tc.code || e.Message == "" {
				t.Errorf("error %+v, want code %q", e, tc.code)
			}
		})
	}
}

func TestMuxIsExtensible(t *testing.T) {
	mux := proofhttp.NewMux(fakeProofs{}, nil)
	mux.HandleFunc("GET /v1/ping", func(w http.ResponseWriter, r *http.Request) {
		proofhttp.WriteJSON(w, http.StatusOK, map[string]string{"pong": "yes"})
	})
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/ping", nil))
	if rec.Code != 200 || rec.Body.String() != "{\"pong\":\"yes\"}\n" {
		t.Errorf("ping: %d %q", rec.Code, rec.Body)
	}
}

// TestHandlerUnderAnotherMux: the handler works under a server's own
// pattern with the same wildcards.
func TestHandlerUnderAnotherMux(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/v1/proofs/{device_id}/{seq}", proofhttp.Handler(fakeProofs{}, nil))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/proofs/inv-001/1", nil))
	if rec.Code != 200 {
		t.Errorf("status %d: %s", rec.Code, rec.Body)
	}
}
