package influxql

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClient(t *testing.T) {
	var got *http.Request
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, body = r, string(b)
		if strings.Contains(body, "BAD") || strings.Contains(r.URL.RawQuery, "bad") {
			http.Error(w, `{"error":"partial write: field type conflict"}`, http.StatusBadRequest)
			return
		}
		io.WriteString(w, `{"results":[]}`)
	}))
	defer srv.Close()
	c := New(Server{URL: srv.URL + "/", Database: "db1", RetentionPolicy: "rp1", Username: "u", Password: "p"}, nil)
	ctx := context.Background()

	rc, err := c.Query(ctx, "SELECT 1", 0)
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if u, p, _ := got.BasicAuth(); u != "u" || p != "p" || got.URL.Path != "/query" ||
		!strings.Contains(body, "db=db1") || !strings.Contains(body, "rp=rp1") || !strings.Contains(body, "epoch=ns") || strings.Contains(body, "chunked") {
		t.Fatalf("query request: path %s body %s auth %v %v", got.URL.Path, body, u, p)
	}
	rc, err = c.Query(ctx, "SELECT 1", 500)
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if !strings.Contains(body, "chunk_size=500") || got.Header.Get("Accept") != "application/csv" {
		t.Fatalf("chunked query request: body %s accept %q", body, got.Header.Get("Accept"))
	}
	if got.Header.Get("Accept-Encoding") != "identity" {
		t.Errorf("Accept-Encoding %q, want identity (no gzip)", got.Header.Get("Accept-Encoding"))
	}
	rows, err := c.QueryRows(ctx, "SELECT 2", 700)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if !strings.Contains(body, "chunk_size=700") || got.Header.Get("Accept") != "application/x-msgpack" || got.Header.Get("Accept-Encoding") != "identity" {
		t.Fatalf("msgpack query request: body %s accept %q encoding %q", body, got.Header.Get("Accept"), got.Header.Get("Accept-Encoding"))
	}
	gz := New(Server{URL: srv.URL, Database: "db1", Gzip: true}, nil)
	if rc, err = gz.Query(ctx, "SELECT 1", 0); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if got.Header.Get("Accept-Encoding") != "gzip" { // asked for by net/http, which also inflates
		t.Errorf("Gzip: Accept-Encoding %q, want gzip", got.Header.Get("Accept-Encoding"))
	}
	if err := c.Write(ctx, "m f=1 1"); err != nil || got.URL.Path != "/write" || got.URL.Query().Get("precision") != "ns" {
		t.Fatalf("write: %v %s", err, got.URL)
	}
	if err := c.Write(ctx, "m f=BAD 1"); err == nil || !strings.Contains(err.Error(), "field type conflict") {
		t.Fatalf("refused write: %v", err)
	}
	if _, err := c.Query(ctx, "BAD", 0); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("refused query: %v", err)
	}
	if err := (Server{URL: "nohost", Database: "x"}).Validate(); err == nil {
		t.Fatal("relative URL accepted")
	}
	if err := (Server{URL: srv.URL}).Validate(); err == nil {
		t.Fatal("missing database accepted")
	}
}
