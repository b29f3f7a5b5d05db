package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sunproof/sunproof/internal/httpapi"
)

var update = flag.Bool("update", false, "rewrite docs/api/openapi.yaml from the embedded document")

const docsCopy = "../../docs/api/openapi.yaml"

// TestOpenAPIFileInSync: docs/api/openapi.yaml is the document the server
// embeds and serves.
func TestOpenAPIFileInSync(t *testing.T) {
	if *update {
		if err := os.WriteFile(docsCopy, httpapi.OpenAPIYAML, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(docsCopy)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, httpapi.OpenAPIYAML) {
		t.Fatal("docs/api/openapi.yaml differs from internal/httpapi/openapi.yaml: edit the latter and run go test ./internal/httpapi -run TestOpenAPIFileInSync -update")
	}
}

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Parameters map[string]map[string]any `json:"parameters"`
	} `json:"components"`
}

type operation struct {
	Security  *[]map[string][]string `json:"security"`
	Responses map[string]any         `json:"responses"`
	Params    []map[string]any       `json:"parameters"`
	Roles     []httpapi.Role         `json:"x-sunproof-roles"`
}

// TestOpenAPICoverage: the served document equals the YAML file, every
// registered route is documented with its method, every documented
// operation is registered, public routes say security: [], protected ones
// document 401 and, unless every role may use them, 403.
func TestOpenAPICoverage(t *testing.T) {
	cfg := testConfig(t)
	srv, err := httpapi.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, cfg)
	st, served, _ := do(t, ts, "GET", "/v1/openapi.json", "", nil)
	if st != 200 {
		t.Fatalf("GET /v1/openapi.json: %d", st)
	}
	var fromYAML any
	if err := yaml.Unmarshal(httpapi.OpenAPIYAML, &fromYAML); err != nil {
		t.Fatal(err)
	}
	var fromJSON any
	if err := json.Unmarshal(served, &fromJSON); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromYAML)
	b, _ := json.Marshal(fromJSON)
	if !bytes.Equal(a, b) {
		t.Error("served /v1/openapi.json differs from openapi.yaml")
	}

	var doc openAPIDoc
	if err := json.Unmarshal(served, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	registered := map[string]bool{}
	for _, rt := range srv.Routes() {
		key := strings.ToLower(rt.Method) + " " + rt.Path
		registered[key] = true
		raw, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("route %s %s is not documented", rt.Method, rt.Path)
			continue
		}
		var op operation
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		public := len(rt.Roles) == 0
		if public != (op.Security != nil && len(*op.Security) == 0) {
			t.Errorf("%s: public %t, but its security is %v", key, public, op.Security)
		}
		if !slices.Equal(op.Roles, rt.Roles) {
			t.Errorf("%s: x-sunproof-roles %v, registered roles %v", key, op.Roles, rt.Roles)
		}
		if !public {
			if _, ok := op.Responses["401"]; !ok {
				t.Errorf("%s: protected route does not document 401", key)
			}
			if len(rt.Roles) < len(httpapi.Roles) {
				if _, ok := op.Responses["403"]; !ok {
					t.Errorf("%s: roles %v but 403 is not documented", key, rt.Roles)
				}
			}
		}
		if _, ok := op.Responses["200"]; !ok {
			t.Errorf("%s: 200 not documented", key)
		}
		for _, seg := range strings.Split(rt.Path, "/") {
			if strings.HasPrefix(seg, "{") {
				name := strings.Trim(seg, "{}")
				if !documentsParam(doc, raw, name) {
					t.Errorf("%s: path parameter %s is not documented", key, name)
				}
			}
		}
	}
	for path, ops := range doc.Paths {
		for m := range ops {
			if !registered[m+" "+path] {
				t.Errorf("documented %s %s is not registered", strings.ToUpper(m), path)
			}
		}
	}
}

// documentsParam reports whether the operation lists a path parameter
// name, directly or through a $ref to components/parameters.
func documentsParam(doc openAPIDoc, raw json.RawMessage, name string) bool {
	var op operation
	if err := json.Unmarshal(raw, &op); err != nil {
		return false
	}
	for _, p := range op.Params {
		if ref, ok := p["$ref"].(string); ok {
			p = doc.Components.Parameters[strings.TrimPrefix(ref, "#/components/parameters/")]
		}
		if p["name"] == name && p["in"] == "path" && p["required"] == true {
			return true
		}
	}
	return false
}
