package deploytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// root is the repository root, relative to this package.
const root = "../.."

// The compose file, as far as the tests look at it. Decoding with
// KnownFields makes a misspelt key (which `docker compose` would refuse) an
// error here too.
type composeFile struct {
	Name      string                   `yaml:"name"`
	XSunproof any                      `yaml:"x-sunproof"`
	Services  map[string]service       `yaml:"services"`
	Volumes   map[string]any           `yaml:"volumes"`
	Secrets   map[string]composeSecret `yaml:"secrets"`
}

type composeSecret struct {
	File string `yaml:"file"`
}

type service struct {
	Image           string               `yaml:"image"`
	Build           *build               `yaml:"build"`
	Restart         string               `yaml:"restart"`
	ReadOnly        bool                 `yaml:"read_only"`
	Tmpfs           []string             `yaml:"tmpfs"`
	SecurityOpt     []string             `yaml:"security_opt"`
	StopGracePeriod string               `yaml:"stop_grace_period"`
	Logging         any                  `yaml:"logging"`
	Ulimits         any                  `yaml:"ulimits"`
	Labels          map[string]string    `yaml:"labels"`
	Profiles        []string             `yaml:"profiles"`
	Entrypoint      []string             `yaml:"entrypoint"`
	Command         []string             `yaml:"command"`
	Environment     map[string]string    `yaml:"environment"`
	Ports           []string             `yaml:"ports"`
	Expose          []string             `yaml:"expose"`
	Volumes         []string             `yaml:"volumes"`
	Secrets         []string             `yaml:"secrets"`
	DependsOn       map[string]dependsOn `yaml:"depends_on"`
	Healthcheck     *healthcheck         `yaml:"healthcheck"`
}

type build struct {
	Context string `yaml:"context"`
	Target  string `yaml:"target"`
}

type dependsOn struct {
	Condition string `yaml:"condition"`
}

type healthcheck struct {
	Test        []string `yaml:"test"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period"`
	Disable     bool     `yaml:"disable"`
}

// pendingLabel marks a service whose subcommand is not in cmd/sunproof yet.
const pendingLabel = "org.sunproof.pending"

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	if len(c.Services) == 0 {
		t.Fatal("docker-compose.yml: no services")
	}
	return c
}

// isSunproof reports whether s runs the image built from our Dockerfile's runtime stage.
func (s service) isSunproof() bool { return s.Build != nil && s.Build.Target == "runtime" }

// oneShot reports whether s runs once (an init job or an operator tool)
// rather than as a long-running service.
func (s service) oneShot() bool { return s.Restart == "no" }

func (s service) exposes(port string) bool { return slices.Contains(s.Expose, port) }

func TestComposeHasTheServices(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"mosquitto", "kafka", "influxdb", "geth", "grafana", "pki-init",
		"collector-1", "collector-2", "tsdb-writer", "anchorer", "analyzer", "serve"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("service %q missing", name)
		}
	}
	if c.Services["kafka"].Image == "" || !strings.HasPrefix(c.Services["kafka"].Image, "apache/kafka:") {
		t.Errorf("kafka image %q: want the official apache/kafka image", c.Services["kafka"].Image)
	}
	if !strings.HasPrefix(c.Services["influxdb"].Image, "influxdb:1.8.") {
		t.Errorf("influxdb image %q: want 1.8.x (docs/decisions/0001-influxdb-1.8.md)", c.Services["influxdb"].Image)
	}
}

func TestComposeHealthAndRestart(t *testing.T) {
	c := loadCompose(t)
	dependedOnToComplete := map[string]bool{}
	for _, s := range c.Services {
		for dep, d := range s.DependsOn {
			if d.Condition == "service_completed_successfully" {
				dependedOnToComplete[dep] = true
			}
		}
	}
	for name, s := range c.Services {
		if s.oneShot() {
			// A one-shot job is either what others wait for, or an operator tool behind a profile.
			if !dependedOnToComplete[name] && len(s.Profiles) == 0 {
				t.Errorf("%s: restart \"no\" but neither awaited with service_completed_successfully nor behind a profile", name)
			}
			continue
		}
		switch s.Restart {
		case "always", "unless-stopped", "on-failure":
		default:
			t.Errorf("%s: restart %q: want always, unless-stopped or on-failure", name, s.Restart)
		}
		h := s.Healthcheck
		if h == nil || h.Disable || len(h.Test) < 2 || (h.Test[0] != "CMD" && h.Test[0] != "CMD-SHELL") {
			t.Errorf("%s: no health check (want test: [CMD, …] or [CMD-SHELL, …])", name)
			continue
		}
		if h.Interval == "" || h.Timeout == "" || h.Retries < 1 || h.StartPeriod == "" {
			t.Errorf("%s: health check needs interval, timeout, retries and start_period", name)
		}
		for dep, d := range s.DependsOn {
			ds, ok := c.Services[dep]
			switch {
			case !ok:
				t.Errorf("%s depends on unknown service %q", name, dep)
			case ds.oneShot() && d.Condition != "service_completed_successfully":
				t.Errorf("%s: depends on one-shot %s with condition %q, want service_completed_successfully", name, dep, d.Condition)
			case !ds.oneShot() && d.Condition != "service_healthy":
				t.Errorf("%s: depends on %s with condition %q, want service_healthy", name, dep, d.Condition)
			}
		}
	}
}

func TestComposeVolumesAndSecrets(t *testing.T) {
	c := loadCompose(t)
	usedVolumes := map[string]bool{}
	usedSecrets := map[string]bool{}
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "ro" && parts[2] != "rw") {
				t.Errorf("%s: volume %q: want SOURCE:TARGET[:ro]", name, v)
				continue
			}
			src, dst := parts[0], parts[1]
			if !strings.HasPrefix(dst, "/") {
				t.Errorf("%s: volume %q: target must be absolute", name, v)
			}
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				// A read-only bind mount is an input: it must be in the repository.
				if len(parts) == 3 && parts[2] == "ro" {
					if _, err := os.Stat(filepath.Join(root, src)); err != nil {
						t.Errorf("%s: bind mount %q: %v", name, v, err)
					}
				}
				continue
			}
			if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s: named volume %q is not declared under volumes:", name, src)
			}
			usedVolumes[src] = true
		}
		for _, sec := range s.Secrets {
			if _, ok := c.Secrets[sec]; !ok {
				t.Errorf("%s: secret %q is not declared under secrets:", name, sec)
			}
			usedSecrets[sec] = true
		}
		// Stateful services keep their state in a volume.
		for _, stateful := range []string{"mosquitto", "kafka", "influxdb", "geth", "grafana"} {
			if name == stateful && !slices.ContainsFunc(s.Volumes, func(v string) bool { return !strings.HasPrefix(v, ".") && !strings.HasSuffix(v, ":ro") }) {
				t.Errorf("%s: no writable named volume for its data", name)
			}
		}
	}
	for v := range c.Volumes {
		if !usedVolumes[v] {
			t.Errorf("volume %q is declared but no service uses it", v)
		}
	}
	for name, sec := range c.Secrets {
		if !usedSecrets[name] {
			t.Errorf("secret %q is declared but no service uses it", name)
		}
		if sec.File == "" {
			t.Errorf("secret %q: want file:", name)
			continue
		}
		// The file holds a real secret: it must never be committable.
		if !gitIgnored(t, sec.File) {
			t.Errorf("secret %q: %s is not git-ignored", name, sec.File)
		}
	}
}

// gitIgnored reports whether path (relative to the repository root) is ignored by git.
func gitIgnored(t *testing.T, path string) bool {
	t.Helper()
	cmd := exec.Command("git", "check-ignore", "-q", "--no-index", path)
	cmd.Dir = root
	err := cmd.Run()
	if err == nil {
		return true
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return false
	}
	t.Fatalf("git check-ignore %s: %v", path, err)
	return false
}

var (
	interpRe   = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)
	secretyRe  = regexp.MustCompile(`(?i)(PASSWORD|SECRET|TOKEN|CREDENTIAL|PRIVATE)`)
	onlyInterp = regexp.MustCompile(`^(?:\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}|:)+$`)
)

// loadEnvExample returns .env.example's variables.
func loadEnvExample(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(k) {
			t.Errorf(".env.example:%d: %q is not NAME=value", i+1, line)
			continue
		}
		if _, dup := env[k]; dup {
			t.Errorf(".env.example:%d: %s twice", i+1, k)
		}
		env[k] = v
	}
	return env
}

func TestComposeNoSecrets(t *testing.T) {
	c := loadCompose(t)
	example := loadEnvExample(t)
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// Every ${VAR} is declared in .env.example, or has a default.
	for _, m := range interpRe.FindAllStringSubmatch(string(raw), -1) {
		if _, ok := example[m[1]]; !ok && !strings.Contains(m[2], "-") {
			t.Errorf("docker-compose.yml uses ${%s} without a default, and .env.example does not declare it", m[1])
		}
	}
	// Secret-looking values come from .env, and compose refuses to start without them.
	for name, s := range c.Services {
		for k, v := range s.Environment {
			if secretyRe.MatchString(k) && !strings.HasSuffix(k, "_FILE") && !onlyInterp.MatchString(v) {
				t.Errorf("%s: %s = %q: a secret must be ${VAR:?message} from .env, never a literal", name, k, v)
			}
		}
	}
	// .env.example holds placeholders only.
	for k, v := range example {
		if secretyRe.MatchString(k) && v != "" && !strings.HasPrefix(v, "change-me") {
			t.Errorf(".env.example: %s = %q: secrets must be empty or change-me placeholders", k, v)
		}
	}
	// The real .env is never committed.
	if !gitIgnored(t, ".env") {
		t.Error(".env is not git-ignored")
	}
	cmd := exec.Command("git", "ls-files", "--", ".env", "deploy/compose/secrets")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, f := range strings.Fields(string(out)) {
		if f != "deploy/compose/secrets/README.md" && f != "deploy/compose/secrets/.gitignore" {
			t.Errorf("%s is tracked by git: it holds secrets", f)
		}
	}
	// No key material in the committed deployment files.
	for _, dir := range []string{"deploy/compose", "dashboards"} {
		_ = filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if gitIgnored(t, rel) {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte("PRIVATE KEY-----")) || bytes.Contains(b, []byte(`"ciphertext"`)) {
				t.Errorf("%s contains key material", rel)
			}
			return nil
		})
	}
}

func TestComposeImagesPinned(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if s.Image == "" {
			t.Errorf("%s: no image", name)
			continue
		}
		repo, tag, ok := strings.Cut(s.Image, ":")
		if s.Build != nil {
			if !ok || repo == "" {
				t.Errorf("%s: built image %q needs a name:tag", name, s.Image)
			}
			continue
		}
		if !ok || tag == "" || tag == "latest" || !regexp.MustCompile(`\d`).MatchString(tag) {
			t.Errorf("%s: image %q: pin a version", name, s.Image)
		}
	}
}

// The published ports are the ones meant for the outside world.
func TestComposePublishedPorts(t *testing.T) {
	c := loadCompose(t)
	public := map[string]string{"mosquitto": "8883", "grafana": "3000", "serve": "8080"}
	for name, s := range c.Services {
		for _, p := range s.Ports {
			parts := strings.Split(p, ":")
			container := parts[len(parts)-1]
			if !s.exposes(container) {
				t.Errorf("%s: publishes %q but does not expose %s", name, p, container)
			}
			loopback := len(parts) == 3 && parts[0] == "127.0.0.1"
			if public[name] != container && !loopback {
				t.Errorf("%s: publishes %q to every interface: only %v are public; bind others to 127.0.0.1", name, p, public)
			}
		}
	}
}

func TestCollectors(t *testing.T) {
	c := loadCompose(t)
	ids := map[string]string{}
	groups := map[string]bool{}
	n := 0
	for name, s := range c.Services {
		if !s.isSunproof() || len(s.Command) == 0 || s.Command[0] != "collect" {
			continue
		}
		n++
		args := argMap(s.Command[1:])
		id := args["client-id"]
		if id == "" {
			t.Errorf("%s: no -client-id: every collector needs its own (persistent sessions are keyed by it)", name)
		} else if other, dup := ids[id]; dup {
			t.Errorf("%s and %s share -client-id %q: the broker would disconnect one for the other", name, other, id)
		}
		ids[id] = name
		groups[args["share-group"]] = true
		for _, f := range []string{"tls-ca", "tls-cert", "tls-key"} {
			if !mountedFile(s, args[f]) {
				t.Errorf("%s: -%s %q is not under a mounted volume", name, f, args[f])
			}
		}
		if u := s.Environment["SUNPROOF_MQTT_URL"]; !strings.HasPrefix(u, "ssl://") {
			t.Errorf("%s: SUNPROOF_MQTT_URL %q: the broker's only network listener is TLS", name, u)
		}
	}
	if n < 2 {
		t.Errorf("%d collect services, want at least 2", n)
	}
	if len(groups) != 1 {
		t.Errorf("collectors in share groups %v: they must share one subscription group", groups)
	}
}

// argMap returns -name value pairs (simple form, for tests that know the command).
func argMap(args []string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(args); i++ {
		name := strings.TrimLeft(args[i], "-")
		if k, v, ok := strings.Cut(name, "="); ok {
			m[k] = v
		} else if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			m[name] = args[i+1]
			i++
		} else {
			m[name] = "true"
		}
	}
	return m
}

// mountedFile reports whether path lies under one of s's volume targets.
func mountedFile(s service, path string) bool {
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && path != "" && (path == parts[1] || strings.HasPrefix(path, strings.TrimSuffix(parts[1], "/")+"/")) {
			return true
		}
	}
	return false
}

func TestComposeServiceNamesAreValid(t *testing.T) {
	c := loadCompose(t)
	for name := range c.Services {
		if !regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`).MatchString(name) {
			t.Errorf("service name %q: want [a-z0-9-] (it is also the DNS name)", name)
		}
	}
	if c.Name == "" {
		t.Error("no top-level name: volumes would be prefixed with the checkout directory's name")
	}
}
