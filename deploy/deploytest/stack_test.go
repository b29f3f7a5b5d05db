package deploytest

// The compose services mirror the local stack (scripts/stack.sh and
// scripts/stack/*), which the integration tests exercise for real: a setting
// that matters there must not silently differ here.

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sunproof/sunproof/ingest/tsdbwriter"
)

func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stackDefaults reads NAME="${SUNPROOF_X:-DEFAULT}" assignments of scripts/stack.sh.
func stackDefaults(t *testing.T) map[string]string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^([A-Z_]+)="\$\{SUNPROOF_[A-Z_]+:-([^}]*)\}"`)
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(readFile(t, "scripts/stack.sh"), -1) {
		out[m[1]] = m[2]
	}
	if out["MQTTS_PORT"] == "" || out["KAFKA_PORT"] == "" || out["ETH_PORT"] == "" {
		t.Fatalf("scripts/stack.sh: port defaults not found: %v", out)
	}
	return out
}

// render substitutes the stack templates' @NAME@ placeholders with the defaults.
func render(t *testing.T, tpl string) string {
	t.Helper()
	d := stackDefaults(t)
	return regexp.MustCompile(`@([A-Z_]+)@`).ReplaceAllStringFunc(tpl, func(s string) string {
		if v, ok := d[strings.Trim(s, "@")]; ok {
			return v
		}
		return s
	})
}

// mosquittoConf parses a mosquitto.conf into sections ("global", "listener
// PORT") of directive → values.
func mosquittoConf(text string) (map[string]map[string][]string, map[string]string) {
	sections := map[string]map[string][]string{"global": {}}
	bind := map[string]string{} // section → bind address
	cur := "global"
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "@") {
			continue
		}
		f := strings.Fields(line)
		if f[0] == "listener" {
			cur = "listener " + f[1]
			sections[cur] = map[string][]string{}
			bind[cur] = ""
			if len(f) > 2 {
				bind[cur] = f[2]
			}
			continue
		}
		sections[cur][f[0]] = append(sections[cur][f[0]], strings.Join(f[1:], " "))
	}
	return sections, bind
}

func TestMosquittoMirrorsStack(t *testing.T) {
	// Where the two must differ: file locations and the log destination.
	local := map[string]bool{"pid_file": true, "persistence_location": true, "log_dest": true,
		"cafile": true, "certfile": true, "keyfile": true, "acl_file": true, "user": true}
	stack, _ := mosquittoConf(render(t, readFile(t, "scripts/stack/mosquitto/mosquitto.conf.in")))
	ours, bind := mosquittoConf(readFile(t, "deploy/compose/mosquitto/mosquitto.conf"))
	for sec, dirs := range stack {
		if _, ok := ours[sec]; !ok {
			t.Errorf("deploy/compose/mosquitto/mosquitto.conf: no %q (the stack has it)", sec)
			continue
		}
		for k, v := range dirs {
			if !local[k] && !slices.Equal(ours[sec][k], v) {
				t.Errorf("%s: %s = %q, the stack has %q", sec, k, ours[sec][k], v)
			}
		}
		for k, v := range ours[sec] {
			if _, ok := dirs[k]; !ok && !local[k] {
				t.Errorf("%s: %s %q is not in the stack's configuration", sec, k, v)
			}
		}
	}
	for sec, dirs := range ours {
		if _, ok := stack[sec]; !ok {
			t.Errorf("%q is not in the stack's configuration", sec)
		}
		if sec == "global" {
			continue
		}
		// Only the container's loopback may be anonymous.
		if bind[sec] != "127.0.0.1" && (!slices.Equal(dirs["allow_anonymous"], []string{"false"}) ||
			!slices.Equal(dirs["require_certificate"], []string{"true"}) || len(dirs["acl_file"]) != 1) {
			t.Errorf("%s listens beyond loopback: it needs allow_anonymous false, require_certificate true and an acl_file", sec)
		}
	}

	// The files it names are where the compose file puts them, and pki-init writes them.
	c := loadCompose(t)
	m := c.Services["mosquitto"]
	tls := ours["listener "+stackDefaults(t)["MQTTS_PORT"]]
	for _, k := range []string{"cafile", "certfile", "keyfile", "acl_file"} {
		if len(tls[k]) != 1 || !mountedFile(m, tls[k][0]) {
			t.Errorf("%s %v: not under a volume mounted into mosquitto", k, tls[k])
		}
	}
	initScript := readFile(t, "deploy/compose/pki/init.sh")
	for _, k := range []string{"cafile", "certfile", "keyfile"} {
		if len(tls[k]) == 1 && !strings.Contains(initScript, `"$MQTT/`+filepath.Base(tls[k][0])+`"`) {
			t.Errorf("%s %s: pki/init.sh does not write $MQTT/%s", k, tls[k][0], filepath.Base(tls[k][0]))
		}
	}
	if !m.exposes(stackDefaults(t)["MQTTS_PORT"]) {
		t.Errorf("mosquitto does not expose the TLS port %s", stackDefaults(t)["MQTTS_PORT"])
	}
}

func aclRules(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

func TestACLMirrorsStack(t *testing.T) {
	got := aclRules(readFile(t, "deploy/compose/mosquitto/acl"))
	want := aclRules(readFile(t, "scripts/stack/mosquitto/acl"))
	if !slices.Equal(got, want) {
		t.Errorf("deploy/compose/mosquitto/acl rules\n%q\ndiffer from scripts/stack/mosquitto/acl\n%q", got, want)
	}
	// The collectors' certificate CN is the ACL's collector user.
	if !slices.Contains(got, "user collector") || !strings.Contains(readFile(t, "deploy/compose/pki/init.sh"), "sign collector ") {
		t.Error("the collectors' certificate CN must be the ACL's \"user collector\"")
	}
}

// kafkaProp maps an apache/kafka image variable to its property:
// KAFKA_ prefix, "_" → ".", "__" → "_", "___" → "-".
func kafkaProp(env string) string {
	s := strings.ToLower(strings.TrimPrefix(env, "KAFKA_"))
	s = strings.ReplaceAll(s, "___", "\x00")
	s = strings.ReplaceAll(s, "__", "\x01")
	s = strings.ReplaceAll(s, "_", ".")
	s = strings.ReplaceAll(s, "\x00", "-")
	return strings.ReplaceAll(s, "\x01", "_")
}

func TestKafkaMirrorsStack(t *testing.T) {
	stack := map[string]string{}
	for _, line := range strings.Split(render(t, readFile(t, "scripts/stack/kafka/server.properties.in")), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		stack[k] = v
	}
	k := loadCompose(t).Services["kafka"]
	ours := map[string]string{}
	for env, v := range k.Environment {
		switch env {
		case "KAFKA_HEAP_OPTS", "KAFKA_OPTS", "KAFKA_JVM_PERFORMANCE_OPTS", "KAFKA_LOG4J_OPTS", "CLUSTER_ID":
			continue
		}
		if !strings.HasPrefix(env, "KAFKA_") {
			t.Errorf("kafka: %s is not a KAFKA_* setting", env)
			continue
		}
		ours[kafkaProp(env)] = v
	}
	// Addresses and paths differ by nature; compare their ports.
	addr := map[string]bool{"listeners": true, "advertised.listeners": true, "controller.quorum.voters": true, "log.dirs": true}
	portsOf := func(v string) []string {
		var ps []string
		for _, m := range regexp.MustCompile(`:(\d+)`).FindAllStringSubmatch(v, -1) {
			ps = append(ps, m[1])
		}
		slices.Sort(ps)
		return ps
	}
	for key, v := range stack {
		got, ok := ours[key]
		switch {
		case !ok:
			t.Errorf("kafka: %s=%s of the stack is not set (KAFKA_%s)", key, v, strings.ToUpper(strings.NewReplacer("-", "___", "_", "__", ".", "_").Replace(key)))
		case addr[key] && !slices.Equal(portsOf(got), portsOf(v)):
			t.Errorf("kafka: %s=%s: ports %v, the stack's are %v", key, got, portsOf(got), portsOf(v))
		case !addr[key] && got != v:
			t.Errorf("kafka: %s=%s, the stack has %s", key, got, v)
		}
	}
	for key, v := range ours {
		if _, ok := stack[key]; !ok {
			t.Errorf("kafka: %s=%s is not in the stack's server.properties.in", key, v)
		}
	}
	if adv := ours["advertised.listeners"]; !strings.Contains(adv, "//kafka:"+stackDefaults(t)["KAFKA_PORT"]) {
		t.Errorf("kafka: advertised.listeners %q: clients must be sent to kafka:%s", adv, stackDefaults(t)["KAFKA_PORT"])
	}
	if k.Environment["CLUSTER_ID"] == "" {
		t.Error("kafka: CLUSTER_ID unset: the image would format every cluster with its built-in id")
	}
}

func TestInfluxMirrorsStack(t *testing.T) {
	// Deliberate differences: addresses and paths; authentication on (users from .env);
	// the tsi1 index (series on disk, not in RAM); log level.
	differ := map[string]bool{"bind-address": true, "meta.dir": true, "data.dir": true, "data.wal-dir": true,
		"http.bind-address": true, "http.auth-enabled": true, "data.index-version": true, "data.wal-fsync-delay": true,
		"http.pprof-enabled": true, "logging.level": true, "logging.suppress-logo": true}
	env := loadCompose(t).Services["influxdb"].Environment
	section := ""
	for _, line := range strings.Split(readFile(t, "scripts/stack/influxdb/influxdb.conf.in"), "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`)
		key := k
		if section != "" {
			key = section + "." + k
		}
		if differ[key] {
			continue
		}
		name := "INFLUXDB_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
		if env[name] != v {
			t.Errorf("influxdb: %s = %q, the stack's %s is %q", name, env[name], key, v)
		}
	}
	db, _, _ := strings.Cut(tsdbwriter.DefaultConfig().Bucket, "/")
	if env["INFLUXDB_DB"] != db {
		t.Errorf("influxdb: INFLUXDB_DB %q, the writer writes to %q", env["INFLUXDB_DB"], db)
	}
	if env["INFLUXDB_HTTP_AUTH_ENABLED"] != "true" {
		t.Error("influxdb: authentication must be on outside the loopback-only local stack")
	}
}

// gethFlags parses "--flag value" pairs.
func gethFlags(args []string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		v := ""
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			v = args[i+1]
			i++
		}
		m[a] = v
	}
	return m
}

func TestGethMirrorsStack(t *testing.T) {
	sh := readFile(t, "scripts/stack.sh")
	body := regexp.MustCompile(`(?s)geth_args\(\) \{\n(.*?)\n\}`).FindStringSubmatch(sh)
	state := regexp.MustCompile(`(?m)^GETH_STATE=\(([^)]*)\)`).FindStringSubmatch(sh)
	if body == nil || state == nil {
		t.Fatal("scripts/stack.sh: geth_args() or GETH_STATE not found")
	}
	text := strings.NewReplacer(`"${GETH_STATE[@]}"`, state[1], `"$ETH_PORT"`, stackDefaults(t)["ETH_PORT"], "\\\n", " ").Replace(body[1])
	text = strings.TrimPrefix(strings.TrimSpace(text), "echo")
	stack := gethFlags(strings.Fields(text))

	g := loadCompose(t).Services["geth"]
	script := strings.Join(g.Command, " ")
	_, run, ok := strings.Cut(script, "exec geth ")
	if !ok {
		t.Fatalf("geth: command %q: want `… exec geth FLAGS`", script)
	}
	ours := gethFlags(strings.Fields(run))
	differ := map[string]bool{"--http.addr": true, "--http.vhosts": true, "--datadir": true}
	for k, v := range stack {
		got, ok := ours[k]
		if !ok || (!differ[k] && got != v) {
			t.Errorf("geth: %s %q, the stack runs %s %q", k, got, k, v)
		}
	}
	for k, v := range ours {
		if _, ok := stack[k]; !ok {
			t.Errorf("geth: %s %q is not in the stack's geth_args", k, v)
		}
	}
	if !strings.Contains(ours["--http.vhosts"], "geth") {
		t.Errorf("geth: --http.vhosts %q must accept the service name geth", ours["--http.vhosts"])
	}
	if !g.exposes(ours["--http.port"]) {
		t.Errorf("geth: does not expose its HTTP port %s", ours["--http.port"])
	}
	// Same genesis, same state scheme at init.
	if !slices.Contains(g.Volumes, "./scripts/stack/geth/genesis-prague.json:/genesis.json:ro") ||
		!strings.Contains(script, "init --state.scheme hash --datadir /data /genesis.json") {
		t.Error("geth: first start must `geth init --state.scheme hash` with scripts/stack/geth/genesis-prague.json")
	}
}

func TestGrafana(t *testing.T) {
	g := loadCompose(t).Services["grafana"]
	c := loadCompose(t)
	var provider struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, "dashboards/provisioning/dashboards/sunproof.yaml")), &provider); err != nil || len(provider.Providers) != 1 {
		t.Fatalf("dashboards/provisioning/dashboards/sunproof.yaml: %v", err)
	}
	for _, want := range []string{
		"./dashboards/provisioning:/etc/grafana/provisioning:ro",
		"./dashboards/json:" + provider.Providers[0].Options.Path + ":ro",
	} {
		if !slices.Contains(g.Volumes, want) {
			t.Errorf("grafana: volume %q missing", want)
		}
	}
	if home := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != "" {
		rel, err := filepath.Rel(provider.Providers[0].Options.Path, home)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("grafana: home dashboard %s is not under the provider path", home)
		} else if _, err := os.Stat(filepath.Join(root, "dashboards/json", rel)); err != nil {
			t.Errorf("grafana: home dashboard: %v", err)
		}
	}
	// The data source's ${VARS} reach Grafana, and its URL reaches InfluxDB.
	ds := readFile(t, "dashboards/provisioning/datasources/influxdb.yaml")
	for _, m := range regexp.MustCompile(`\$\{?([A-Z][A-Z0-9_]*)\}?`).FindAllStringSubmatch(ds, -1) {
		if _, ok := g.Environment[m[1]]; !ok {
			t.Errorf("grafana: the data source uses $%s, which grafana's environment lacks", m[1])
		}
	}
	var dsf struct {
		Datasources []struct {
			URL string `yaml:"url"`
		} `yaml:"datasources"`
	}
	if err := yaml.NewDecoder(bytes.NewReader([]byte(ds))).Decode(&dsf); err != nil || len(dsf.Datasources) == 0 {
		t.Fatalf("datasource yaml: %v", err)
	}
	u, err := url.Parse(dsf.Datasources[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	if target, ok := c.Services[u.Hostname()]; !ok || !target.exposes(u.Port()) {
		t.Errorf("data source url %s: no service %q exposing %s", u, u.Hostname(), u.Port())
	}
	if dep := g.DependsOn[u.Hostname()]; dep.Condition != "service_healthy" {
		t.Errorf("grafana does not wait for %s to be healthy", u.Hostname())
	}
}
