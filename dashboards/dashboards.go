package dashboards

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"sync"
)

// DatasourceUID is the uid of the provisioned InfluxDB data source that every
// dashboard refers to.
const DatasourceUID = "sunproof-influxdb"

//go:embed json/*.json
var files embed.FS

// Dashboard is one embedded Grafana dashboard.
type Dashboard struct {
	File  string // file name under json/, e.g. "fleet.json"
	UID   string // Grafana uid: stable, used in /d/<uid> links
	Title string
	JSON  []byte // the Grafana JSON model, as provisioned
}

var load = sync.OnceValue(func() []Dashboard {
	names, err := fs.Glob(files, "json/*.json")
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	out := make([]Dashboard, 0, len(names))
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			panic(err)
		}
		var meta struct {
			UID   string `json:"uid"`
			Title string `json:"title"`
		}
		if err := json.Unmarshal(b, &meta); err != nil {
			// Embedded at build time and checked by the tests.
			panic(fmt.Sprintf("dashboards: embedded %s: %v", n, err))
		}
		out = append(out, Dashboard{File: path.Base(n), UID: meta.UID, Title: meta.Title, JSON: b})
	}
	return out
})

// Dashboards returns the embedded dashboards sorted by file name. The slice
// is a copy; the JSON bytes are shared: do not modify them.
func Dashboards() []Dashboard { return slices.Clone(load()) }
