package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sunproof/sunproof/ingest/tsdbwriter"
)

// The Grafana JSON model, as far as the tests look at it.
type dashboardModel struct {
	ID            any    `json:"id"`
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Tags          []string
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panelModel `json:"panels"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Datasource json.RawMessage `json:"datasource"`
	Query      any             `json:"query"` // a string for InfluxDB; some types use objects
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
}

type panelModel struct {
	ID          int             `json:"id"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	GridPos     *gridPos        `json:"gridPos"`
	Datasource  json.RawMessage `json:"datasource"`
	Targets     []targetModel   `json:"targets"`
	Panels      []panelModel    `json:"panels"` // collapsed rows
}

type gridPos struct{ H, W, X, Y int }

type targetModel struct {
	RefID        string          `json:"refId"`
	Datasource   json.RawMessage `json:"datasource"`
	Query        string          `json:"query"`
	RawQuery     bool            `json:"rawQuery"`
	ResultFormat string          `json:"resultFormat"`
	Alias        string          `json:"alias"`
	Select       json.RawMessage `json:"select"` // query-builder mode: not allowed
}

var panelTypes = map[string]bool{
	"row": true, "text": true, "stat": true, "gauge": true, "bargauge": true, "table": true,
	"timeseries": true, "barchart": true, "state-timeline": true, "status-history": true, "piechart": true,
}

// wantDashboards are the dashboards the issue asks for, by uid.
var wantDashboards = []string{"sunproof-carbon", "sunproof-fleet", "sunproof-loans", "sunproof-plant"}

func decode(t *testing.T, d Dashboard) dashboardModel {
	t.Helper()
	if !json.Valid(d.JSON) {
		t.Fatalf("%s: invalid JSON", d.File)
	}
	var m dashboardModel
	dec := json.NewDecoder(bytes.NewReader(d.JSON))
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s: %v", d.File, err)
	}
	return m
}

func TestDashboardsList(t *testing.T) {
	ds := Dashboards()
	var uids []string
	titles := map[string]bool{}
	for _, d := range ds {
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: uid %q, title %q: both are required", d.File, d.UID, d.Title)
		}
		if len(d.UID) > 40 {
			t.Errorf("%s: uid %q is longer than Grafana's 40 characters", d.File, d.UID)
		}
		if titles[d.Title] {
			t.Errorf("%s: title %q used twice", d.File, d.Title)
		}
		titles[d.Title] = true
		uids = append(uids, d.UID)
	}
	sort.Strings(uids)
	if !slices.Equal(uids, wantDashboards) {
		t.Errorf("dashboards: got uids %v, want %v", uids, wantDashboards)
	}
	if len(slices.Compact(slices.Clone(uids))) != len(uids) {
		t.Errorf("duplicate uids in %v", uids)
	}
	// The list is a copy.
	ds[0].UID = "changed"
	if Dashboards()[0].UID == "changed" {
		t.Error("Dashboards() returns a shared slice")
	}
}

func TestDashboardStructure(t *testing.T) {
	for _, d := range Dashboards() {
		t.Run(d.File, func(t *testing.T) {
			m := decode(t, d)
			if m.ID != nil {
				t.Errorf("id = %v: provisioned dashboards must have id null", m.ID)
			}
			if m.SchemaVersion < 36 {
				t.Errorf("schemaVersion %d: want ≥ 36 (datasource references by uid)", m.SchemaVersion)
			}
			if !slices.Contains(m.Tags, "sunproof") {
				t.Errorf("tags %v: want \"sunproof\" (the dashboards' link menu lists by tag)", m.Tags)
			}
			ids := map[int]string{}
			var boxes []struct {
				title string
				g     gridPos
			}
			var walk func(ps []panelModel)
			walk = func(ps []panelModel) {
				for _, p := range ps {
					if p.ID <= 0 {
						t.Errorf("panel %q: id %d, want > 0", p.Title, p.ID)
					}
					if other, dup := ids[p.ID]; dup {
						t.Errorf("panel id %d used by %q and %q", p.ID, other, p.Title)
					}
					ids[p.ID] = p.Title
					if !panelTypes[p.Type] {
						t.Errorf("panel %d %q: type %q is not one this project uses", p.ID, p.Title, p.Type)
					}
					if strings.TrimSpace(p.Title) == "" {
						t.Errorf("panel %d: no title", p.ID)
					}
					g := p.GridPos
					switch {
					case g == nil:
						t.Errorf("panel %d %q: no gridPos", p.ID, p.Title)
					case g.W < 1 || g.H < 1 || g.X < 0 || g.Y < 0 || g.X+g.W > 24:
						t.Errorf("panel %d %q: gridPos %+v outside the 24-column grid", p.ID, p.Title, *g)
					default:
						boxes = append(boxes, struct {
							title string
							g     gridPos
						}{p.Title, *g})
					}
					needsQuery := p.Type != "row" && p.Type != "text"
					if needsQuery && len(p.Targets) == 0 {
						t.Errorf("panel %d %q: no queries", p.ID, p.Title)
					}
					if !needsQuery && len(p.Targets) > 0 {
						t.Errorf("panel %d %q: a %s with queries", p.ID, p.Title, p.Type)
					}
					refs := map[string]bool{}
					for _, tg := range p.Targets {
						if tg.RefID == "" || refs[tg.RefID] {
							t.Errorf("panel %d %q: refId %q empty or repeated", p.ID, p.Title, tg.RefID)
						}
						refs[tg.RefID] = true
					}
					walk(p.Panels)
				}
			}
			walk(m.Panels)
			for i, a := range boxes {
				for _, b := range boxes[i+1:] {
					if a.g.X < b.g.X+b.g.W && b.g.X < a.g.X+a.g.W && a.g.Y < b.g.Y+b.g.H && b.g.Y < a.g.Y+a.g.H {
						t.Errorf("panels %q %+v and %q %+v overlap", a.title, a.g, b.title, b.g)
					}
				}
			}
		})
	}
}

// checkDatasource reports whether raw refers to the provisioned data source.
func checkDatasource(raw json.RawMessage, ds provisionedDatasource) error {
	if len(raw) == 0 {
		return fmt.Errorf("no datasource: set {\"type\": %q, \"uid\": %q}", ds.Type, ds.UID)
	}
	var ref struct{ Type, UID string }
	if err := json.Unmarshal(raw, &ref); err != nil {
		return fmt.Errorf("datasource %s: want an object {type, uid} (names and ${DS_…} inputs do not survive provisioning)", raw)
	}
	if ref.UID != ds.UID || ref.Type != ds.Type {
		return fmt.Errorf("datasource {type %q, uid %q}: the provisioned one is {type %q, uid %q}", ref.Type, ref.UID, ds.Type, ds.UID)
	}
	return nil
}

var aliasTagRe = regexp.MustCompile(`\$tag_([A-Za-z0-9_]+)|\[\[tag_([A-Za-z0-9_]+)\]\]`)

func TestQueriesMatchSchema(t *testing.T) {
	s := liveSchema(t)
	ds := loadDatasource(t)
	used := map[use]bool{}
	for _, d := range Dashboards() {
		t.Run(d.File, func(t *testing.T) {
			m := decode(t, d)
			c := &checker{schema: s, vars: map[string]bool{}, used: used}
			for _, v := range m.Templating.List {
				if v.Name == "" || builtinVars[v.Name] {
					t.Errorf("variable %q: empty or a Grafana built-in", v.Name)
				}
				if _, dup := c.vars[v.Name]; dup {
					t.Errorf("variable %q defined twice", v.Name)
				}
				switch v.Type {
				case "query":
					if err := checkDatasource(v.Datasource, ds); err != nil {
						t.Errorf("variable %q: %v", v.Name, err)
					}
					q, _ := v.Query.(string)
					// Variables resolve in order: a query may use only those before it.
					if _, err := c.check(q); err != nil {
						t.Errorf("variable %q: %v\n  query: %s", v.Name, err, q)
					}
				case "custom", "textbox", "constant", "interval":
				default:
					t.Errorf("variable %q: type %q", v.Name, v.Type)
				}
				if v.IncludeAll && v.AllValue != ".*" {
					t.Errorf("variable %q: includeAll without allValue \".*\" expands to every value in every query", v.Name)
				}
				c.vars[v.Name] = v.Multi || v.IncludeAll
			}
			var walk func(ps []panelModel)
			walk = func(ps []panelModel) {
				for _, p := range ps {
					for _, v := range grafanaVars(p.Title) {
						if _, ok := c.vars[v]; !ok && !builtinVars[v] {
							t.Errorf("panel %d %q: title uses undefined $%s", p.ID, p.Title, v)
						}
					}
					if len(p.Targets) > 0 {
						if err := checkDatasource(p.Datasource, ds); err != nil {
							t.Errorf("panel %d %q: %v", p.ID, p.Title, err)
						}
					}
					for _, tg := range p.Targets {
						where := fmt.Sprintf("panel %d %q query %s", p.ID, p.Title, tg.RefID)
						if err := checkDatasource(tg.Datasource, ds); err != nil {
							t.Errorf("%s: %v", where, err)
						}
						if !tg.RawQuery || len(tg.Select) > 0 {
							t.Errorf("%s: use raw InfluxQL (rawQuery true, no builder \"select\"): only raw queries are checked", where)
						}
						if tg.ResultFormat != "time_series" && tg.ResultFormat != "table" {
							t.Errorf("%s: resultFormat %q", where, tg.ResultFormat)
						}
						cols, err := c.check(tg.Query)
						if err != nil {
							t.Errorf("%s: %v\n  query: %s", where, err, tg.Query)
							continue
						}
						for _, mm := range aliasTagRe.FindAllStringSubmatch(tg.Alias, -1) {
							if tag := mm[1] + mm[2]; cols[tag] != kindTag {
								t.Errorf("%s: alias %q uses tag %q, which the query does not GROUP BY", where, tg.Alias, tag)
							}
						}
						for _, v := range grafanaVars(aliasTagRe.ReplaceAllString(tg.Alias, "")) {
							if _, ok := c.vars[v]; !ok && v != "col" && v != "m" && v != "measurement" {
								t.Errorf("%s: alias %q uses undefined $%s", where, tg.Alias, v)
							}
						}
					}
					walk(p.Panels)
				}
			}
			walk(m.Panels)
		})
	}
	// Report what the dashboards show of the schema, so a new field that no
	// dashboard shows is a visible decision.
	for _, m := range slices.Sorted(maps.Keys(s)) {
		var unused []string
		for _, n := range slices.Sorted(maps.Keys(s[m])) {
			if !used[use{m, n}] {
				unused = append(unused, n)
			}
		}
		t.Logf("measurement %q: not shown on any dashboard: %v", m, unused)
	}
	for _, m := range []string{tsdbwriter.Measurement, "alert"} {
		if !used[use{m, "device_id"}] {
			t.Errorf("no dashboard uses measurement %q", m)
		}
	}
}

// The checker must catch the mistakes it exists for.
func TestCheckerCatchesMistakes(t *testing.T) {
	s := liveSchema(t)
	for _, tc := range []struct {
		desc, q string
		wantErr string // "" = valid
	}{
		{"valid time series", `SELECT mean("ac_power_w") FROM "reading" WHERE $timeFilter AND "device_id" =~ /^$dev$/ GROUP BY time($__interval), "device_id" fill(none)`, ""},
		{"valid subquery", `SELECT sum("d") FROM (SELECT non_negative_difference("energy_wh") AS "d" FROM "reading" WHERE $timeFilter GROUP BY "device_id", "site_id") GROUP BY "site_id"`, ""},
		{"valid single-value variable in a string", `SELECT last("temp_c") FROM "reading" WHERE time > now() - 1h AND "site_id" = '$one'`, ""},
		{"valid tag values", `SHOW TAG VALUES FROM "reading" WITH KEY = "device_id" WHERE "site_id" =~ /^$dev$/`, ""},
		{"field typo", `SELECT mean("ac_power") FROM "reading" WHERE $timeFilter`, `"ac_power" is not a field or tag`},
		{"unknown measurement", `SELECT mean("ac_power_w") FROM "readings" WHERE $timeFilter`, `measurement "readings"`},
		{"group by a field", `SELECT last("temp_c") FROM "reading" WHERE $timeFilter GROUP BY "state"`, `not a tag`},
		{"tag against a number", `SELECT last("temp_c") FROM "reading" WHERE $timeFilter AND "site_id" = 7`, `compare it with a 'string'`},
		{"integer field against a string", `SELECT last("temp_c") FROM "reading" WHERE $timeFilter AND "state" = '7'`, `compare it with a number`},
		{"integer field against a float", `SELECT last("temp_c") FROM "reading" WHERE $timeFilter AND "state" = 7.5`, `integer field`},
		{"regex operator with a string", `SELECT last("temp_c") FROM "reading" WHERE $timeFilter AND "site_id" =~ 'x'`, `take a regex`},
		{"multi-value variable with =", `SELECT last("temp_c") FROM "reading" WHERE $timeFilter AND "device_id" = '$dev'`, `several values`},
		{"group by time without a time range", `SELECT mean("temp_c") FROM "reading" GROUP BY time(1m)`, `without a time condition`},
		{"inner group by time without a time range", `SELECT sum("p") FROM (SELECT mean("ac_power_w") AS "p" FROM "reading" GROUP BY time(1m)) WHERE $timeFilter GROUP BY time(1m)`, `without a time condition`},
		{"unknown function", `SELECT avg("temp_c") FROM "reading" WHERE $timeFilter`, `unknown function`},
		{"undefined variable", `SELECT mean("temp_c") FROM "reading" WHERE $timeFilter AND "site_id" =~ /^$nope$/`, `$nope is not defined`},
		{"outer query names an inner field it did not select", `SELECT sum("temp_c") FROM (SELECT last("ac_power_w") AS "p" FROM "reading" WHERE $timeFilter GROUP BY "device_id")`, `"temp_c" is not a field or tag of the subquery`},
		{"tag value key that is a field", `SHOW TAG VALUES FROM "reading" WITH KEY = "seq"`, `not a tag`},
		{"meta query filtered on a field", `SHOW TAG VALUES FROM "reading" WITH KEY = "device_id" WHERE "state" = 7`, `not a tag`},
		{"unsupported statement", `DROP MEASUREMENT "reading"`, `unsupported statement`},
		{"select star", `SELECT * FROM "reading" WHERE $timeFilter`, `SELECT *`},
		{"order by a field", `SELECT "temp_c" FROM "reading" WHERE $timeFilter ORDER BY "temp_c"`, `orders by time only`},
		{"alert state is a string", `SELECT count("state") FROM "alert" WHERE $timeFilter AND "state" = 1`, `compare it with a 'string'`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			c := &checker{schema: s, vars: map[string]bool{"dev": true, "one": false}, used: map[use]bool{}}
			_, err := c.check(tc.q)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("got no error, want one containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

type provisionedDatasource struct {
	Name     string            `yaml:"name"`
	UID      string            `yaml:"uid"`
	Type     string            `yaml:"type"`
	Access   string            `yaml:"access"`
	URL      string            `yaml:"url"`
	User     string            `yaml:"user"`
	JSONData map[string]any    `yaml:"jsonData"`
	Secure   map[string]string `yaml:"secureJsonData"`
}

func loadDatasource(t *testing.T) provisionedDatasource {
	t.Helper()
	b, err := os.ReadFile("provisioning/datasources/influxdb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		APIVersion  int                     `yaml:"apiVersion"`
		Datasources []provisionedDatasource `yaml:"datasources"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("datasources: %v", err)
	}
	if f.APIVersion != 1 || len(f.Datasources) != 1 {
		t.Fatalf("datasources: apiVersion %d with %d data sources, want 1 and 1", f.APIVersion, len(f.Datasources))
	}
	return f.Datasources[0]
}

var envRefRe = regexp.MustCompile(`^\$\{?[A-Z][A-Z0-9_]*\}?$`)

func TestProvisionedDatasource(t *testing.T) {
	ds := loadDatasource(t)
	if ds.UID != DatasourceUID || ds.Type != "influxdb" || ds.Access != "proxy" {
		t.Errorf("uid %q type %q access %q: want %q, influxdb, proxy", ds.UID, ds.Type, ds.Access, DatasourceUID)
	}
	u, err := url.Parse(ds.URL)
	if err != nil || u.Port() != "8086" {
		t.Errorf("url %q: want InfluxDB's HTTP port 8086", ds.URL)
	}
	// The writer's bucket is "db" or "db/rp" on 1.8: Grafana reads the database.
	db, _, _ := strings.Cut(tsdbwriter.DefaultConfig().Bucket, "/")
	if got := ds.JSONData["dbName"]; got != db {
		t.Errorf("jsonData.dbName = %v, want the writer's database %q", got, db)
	}
	if got := ds.JSONData["version"]; got != "InfluxQL" {
		t.Errorf("jsonData.version = %v, want InfluxQL (the dashboards' queries are InfluxQL)", got)
	}
	if !envRefRe.MatchString(ds.User) || !envRefRe.MatchString(ds.Secure["password"]) {
		t.Errorf("user %q, password %q: both must come from the environment ($VAR), never be written here", ds.User, ds.Secure["password"])
	}
}

func TestDashboardProvider(t *testing.T) {
	b, err := os.ReadFile("provisioning/dashboards/sunproof.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name    string `yaml:"name"`
			Type    string `yaml:"type"`
			Folder  string `yaml:"folder"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f.APIVersion != 1 || len(f.Providers) != 1 {
		t.Fatalf("apiVersion %d, %d providers: want 1 and 1", f.APIVersion, len(f.Providers))
	}
	p := f.Providers[0]
	if p.Type != "file" || !strings.HasPrefix(p.Options.Path, "/") {
		t.Errorf("provider type %q path %q: want a file provider with an absolute path (docker-compose.yml mounts json/ there)", p.Type, p.Options.Path)
	}
}
