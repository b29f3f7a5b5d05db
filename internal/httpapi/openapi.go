package httpapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"go.yaml.in/yaml/v3"
)

// OpenAPIYAML is the API's OpenAPI 3 document. docs/api/openapi.yaml is
// the same file (TestOpenAPIFileInSync keeps them equal; run
// `go test ./internal/httpapi -run TestOpenAPIFileInSync -update` after
// editing this copy).
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// openAPIJSON is the document served at /v1/openapi.json.
var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(OpenAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return b, nil
})
