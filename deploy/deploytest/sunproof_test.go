package deploytest

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// binaries holds cmd/sunproof and cmd/sunproof-agent built as the
// Dockerfile builds them: CGO_ENABLED=0.
var binaries = struct {
	once     sync.Once
	dir      string
	err      error
	sunproof string
	agent    string
}{}

func TestMain(m *testing.M) {
	code := m.Run()
	if binaries.dir != "" {
		os.RemoveAll(binaries.dir)
	}
	os.Exit(code)
}

func buildBinaries(t *testing.T) (sunproof, agent string) {
	t.Helper()
	binaries.once.Do(func() {
		binaries.dir, binaries.err = os.MkdirTemp("", "deploytest-")
		if binaries.err != nil {
			return
		}
		gobin, err := exec.LookPath("go")
		if err != nil {
			binaries.err = err
			return
		}
		binaries.sunproof = filepath.Join(binaries.dir, "sunproof")
		binaries.agent = filepath.Join(binaries.dir, "sunproof-agent")
		cmd := exec.Command(gobin, "build", "-trimpath", "-o", binaries.dir+string(filepath.Separator), "./cmd/sunproof", "./cmd/sunproof-agent")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := cmd.CombinedOutput(); err != nil {
			binaries.err = fmt.Errorf("CGO_ENABLED=0 go build: %v\n%s", err, out)
		}
	})
	if binaries.err != nil {
		t.Fatal(binaries.err)
	}
	return binaries.sunproof, binaries.agent
}

// TestBinariesAreStatic: the runtime image has no C library to link against.
func TestBinariesAreStatic(t *testing.T) {
	sp, agent := buildBinaries(t)
	for _, p := range []string{sp, agent} {
		f, err := elf.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP || prog.Type == elf.PT_DYNAMIC {
				t.Errorf("%s is dynamically linked", filepath.Base(p))
			}
		}
		f.Close()
	}
}

type flagInfo struct {
	name, typ, def, usage string
	env                   string // SUNPROOF_* variable the usage says it defaults from
}

func (f flagInfo) isBool() bool { return f.typ == "" }

// run runs the binary with no SUNPROOF_* variables, so flag defaults are the code's.
func run(bin string, args ...string) (string, int) {
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SUNPROOF_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return string(out), code
}

var (
	commandLineRe = regexp.MustCompile(`^  ([a-z][a-z0-9-]*)\s+\S`)
	flagLineRe    = regexp.MustCompile(`^  -([^\s=]+)(?: ([A-Za-z0-9_.]+))?(?:\t(.*))?$`)
	defaultRe     = regexp.MustCompile(`\(default (.*)\)\s*$`)
	envInUsageRe  = regexp.MustCompile(`\(env (SUNPROOF_[A-Z0-9_]+)\)`)
)

// commands lists the binary's subcommands from its usage text.
func commands(t *testing.T, bin string) map[string]bool {
	t.Helper()
	out, _ := run(bin)
	cmds := map[string]bool{}
	inList := false
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "commands:") {
			inList = true
			continue
		}
		if m := commandLineRe.FindStringSubmatch(line); inList && m != nil {
			cmds[m[1]] = true
		}
	}
	if len(cmds) == 0 {
		t.Fatalf("no subcommands in the usage of %s:\n%s", bin, out)
	}
	return cmds
}

// parseFlags reads the flag.PrintDefaults text after "Usage of …:".
func parseFlags(out string) map[string]flagInfo {
	flags := map[string]flagInfo{}
	var cur *flagInfo
	flush := func() {
		if cur != nil {
			cur.usage = strings.TrimSpace(cur.usage)
			if m := defaultRe.FindStringSubmatch(cur.usage); m != nil {
				cur.def = m[1]
				if s, err := strconv.Unquote(m[1]); err == nil {
					cur.def = s
				}
			}
			if m := envInUsageRe.FindStringSubmatch(cur.usage); m != nil {
				cur.env = m[1]
			}
			flags[cur.name] = *cur
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if m := flagLineRe.FindStringSubmatch(line); m != nil {
			flush()
			cur = &flagInfo{name: m[1], typ: m[2], usage: m[3]}
		} else if cur != nil && strings.HasPrefix(line, "    \t") {
			cur.usage += " " + strings.TrimSpace(line)
		}
	}
	flush()
	return flags
}

// flagsOf returns the flags of the subcommand at the start of args, and how
// many arguments name it ("collect" → 1, "devices add" → 2).
func flagsOf(bin string, args []string) (map[string]flagInfo, int, error) {
	for n := 1; n <= len(args) && n <= 2; n++ {
		if n == 2 && strings.HasPrefix(args[1], "-") {
			break
		}
		out, code := run(bin, append(slices.Clone(args[:n]), "-h")...)
		// The flag package's own usage starts with "Usage of "; commands
		// with a custom fs.Usage print their own header and then call
		// fs.PrintDefaults, whose lines parseFlags recognises.
		if code == 0 {
			if f := parseFlags(out); len(f) > 0 {
				return f, n, nil
			}
		}
	}
	return nil, 0, fmt.Errorf("%q: no flag usage from `sunproof %s -h`", args, strings.Join(args[:min(2, len(args))], " "))
}

// sourceEnvNames returns every SUNPROOF_* name in the non-test Go source.
func sourceEnvNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	re := regexp.MustCompile(`SUNPROOF_[A-Z0-9_]*[A-Z0-9]`)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".stack", "node_modules", "bin", "deploytest":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range re.FindAll(b, -1) {
			names[string(m)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// endpoint is a host:port a service listens on or dials.
type endpoint struct {
	host, port string
	listen     bool // ":port" or "0.0.0.0:port"
}

var hostPortRe = regexp.MustCompile(`^([A-Za-z0-9.-]*):(\d+)$`)

// endpoints extracts host:port pairs from a flag or variable value: a URL, a
// host:port, or a comma-separated list of them.
func endpoints(v string) []endpoint {
	var out []endpoint
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if strings.Contains(part, "${") {
			continue
		}
		if strings.Contains(part, "://") {
			u, err := url.Parse(part)
			if err != nil || u.Port() == "" {
				continue
			}
			part = u.Host
		}
		if m := hostPortRe.FindStringSubmatch(part); m != nil {
			out = append(out, endpoint{host: m[1], port: m[2], listen: m[1] == "" || m[1] == "0.0.0.0"})
		}
	}
	return out
}

func defaultPort(def string) string {
	if eps := endpoints(def); len(eps) > 0 {
		return eps[0].port
	}
	return ""
}

func TestSunproofServicesAgreeWithTheCode(t *testing.T) {
	bin, _ := buildBinaries(t)
	c := loadCompose(t)
	cmds := commands(t, bin)
	srcEnv := sourceEnvNames(t)

	// Every flag of every subcommand the compose file runs, by name, for the
	// "another command has this default" rule.
	inventory := map[string][]flagInfo{}
	for _, path := range [][]string{{"collect"}, {"write-tsdb"}, {"sim"}, {"bench"}, {"devices", "add"}, {"devices", "list"}} {
		if !cmds[path[0]] {
			continue
		}
		fl, _, err := flagsOf(bin, path)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fl {
			inventory[f.name] = append(inventory[f.name], f)
		}
	}
	envFlag := map[string]flagInfo{} // SUNPROOF_X → the flag it feeds
	for _, fs := range inventory {
		for _, f := range fs {
			if f.env != "" {
				envFlag[f.env] = f
			}
		}
	}
	knownPort := func(flagName, port string) bool {
		for _, f := range inventory[flagName] {
			if defaultPort(f.def) == port {
				return true
			}
		}
		return false
	}
	// checkDial: a host:port a service dials names a service that exposes it.
	checkDial := func(who, what string, ep endpoint) {
		target, ok := c.Services[ep.host]
		switch {
		case ep.host == "localhost" || ep.host == "127.0.0.1":
			t.Errorf("%s: %s dials %s:%s, the container itself: use the service name", who, what, ep.host, ep.port)
		case !ok:
			t.Errorf("%s: %s dials %s:%s: no service %q", who, what, ep.host, ep.port, ep.host)
		case !target.exposes(ep.port):
			t.Errorf("%s: %s dials %s:%s, but %s exposes %v", who, what, ep.host, ep.port, ep.host, target.Expose)
		}
	}

	checked := 0
	for name, s := range c.Services {
		if !s.isSunproof() {
			continue
		}
		t.Run(name, func(t *testing.T) {
			if len(s.Command) == 0 {
				t.Fatalf("no command (exec form: [subcommand, flags…])")
			}
			_, pending := s.Labels[pendingLabel]
			sub := s.Command[0]
			listenPorts := map[string]bool{}
			switch {
			case !cmds[sub] && !pending:
				t.Fatalf("`sunproof %s` does not exist (commands: %v); if it is being written, label the service %s", sub, keys(cmds), pendingLabel)
			case cmds[sub] && pending:
				t.Errorf("`sunproof %s` exists now: remove the %s label so its flags are checked", sub, pendingLabel)
			case pending:
				t.Logf("`sunproof %s` does not exist yet: flags not checked (%s)", sub, s.Labels[pendingLabel])
				// Without flag definitions, take the conventional listen flags at their word.
				args := argMap(s.Command[1:])
				for _, f := range []string{"metrics-addr", "addr"} {
					for _, ep := range endpoints(args[f]) {
						listenPorts[ep.port] = true
					}
				}
			default:
				checked++
				flags, n, err := flagsOf(bin, s.Command)
				if err != nil {
					t.Fatal(err)
				}
				rest := s.Command[n:]
				for i := 0; i < len(rest); i++ {
					a := rest[i]
					if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
						t.Errorf("argument %q: not a flag; the flag package stops here and ignores %q", a, rest[i:])
						break
					}
					fname, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
					f, ok := flags[fname]
					if !ok {
						t.Errorf("flag -%s is not defined by `sunproof %s`", fname, strings.Join(s.Command[:n], " "))
						continue
					}
					if !f.isBool() && !hasVal {
						if i+1 >= len(rest) {
							t.Errorf("flag -%s needs a value", fname)
							break
						}
						i++
						val = rest[i]
					}
					if err := checkValue(f, val); err != nil {
						t.Errorf("-%s %q: %v", fname, val, err)
					}
					if f.env != "" {
						if _, dup := s.Environment[f.env]; dup {
							t.Errorf("-%s and %s both set: the flag wins, the variable is dead weight", fname, f.env)
						}
					}
					for _, ep := range endpoints(val) {
						if ep.listen {
							if p := defaultPort(f.def); p != ep.port {
								t.Errorf("-%s %s: listens on port %s, the default is %s (%q)", fname, val, ep.port, p, f.def)
							}
							listenPorts[ep.port] = true
						} else {
							checkDial(name, "-"+fname, ep)
							if !knownPort(fname, ep.port) {
								t.Errorf("-%s %s: port %s is not the default of any -%s flag", fname, val, ep.port, fname)
							}
						}
					}
				}
			}
			for k, v := range s.Environment {
				if !strings.HasPrefix(k, "SUNPROOF_") {
					t.Errorf("%s: only SUNPROOF_* variables configure the Sunproof services", k)
					continue
				}
				if !srcEnv[k] {
					t.Errorf("%s: no Go source reads this variable", k)
				}
				f, fed := envFlag[k]
				if fed {
					if err := checkValue(f, v); err != nil {
						t.Errorf("%s=%q (feeds -%s): %v", k, v, f.name, err)
					}
				}
				for _, ep := range endpoints(v) {
					if ep.listen {
						t.Errorf("%s=%q: looks like a listen address; services listen through flags", k, v)
						continue
					}
					checkDial(name, k, ep)
					if fed && !knownPort(f.name, ep.port) {
						t.Errorf("%s=%q: port %s is not the default of any -%s flag", k, v, ep.port, f.name)
					}
				}
			}
			if s.oneShot() {
				return
			}
			if len(listenPorts) == 0 {
				t.Errorf("listens on no port: set -metrics-addr :PORT so that the health check and Prometheus reach it")
			}
			for p := range listenPorts {
				if !s.exposes(p) {
					t.Errorf("listens on %s but does not expose it (expose: %v)", p, s.Expose)
				}
			}
			if hc := s.Healthcheck; hc != nil && !slices.ContainsFunc(keys(listenPorts), func(p string) bool {
				return strings.Contains(strings.Join(hc.Test, " "), "127.0.0.1:"+p+"/")
			}) {
				t.Errorf("health check %q probes none of its listen ports %v", hc.Test, keys(listenPorts))
			}
		})
	}
	if checked == 0 {
		t.Error("no Sunproof service was checked against the binary")
	}
	// Third-party services' dial targets (Grafana's data source is checked in TestGrafana).
	for name, s := range c.Services {
		if s.isSunproof() {
			continue
		}
		for _, p := range s.Expose {
			if _, err := strconv.Atoi(p); err != nil {
				t.Errorf("%s: expose %q: want a port number", name, p)
			}
		}
	}
}

// checkValue checks that v parses as f's type.
func checkValue(f flagInfo, v string) error {
	var err error
	switch f.typ {
	case "int":
		_, err = strconv.Atoi(v)
	case "uint":
		_, err = strconv.ParseUint(v, 10, 64)
	case "float":
		_, err = strconv.ParseFloat(v, 64)
	case "duration":
		_, err = time.ParseDuration(v)
	case "":
		_, err = strconv.ParseBool(v)
	}
	if err != nil {
		typ := f.typ
		if typ == "" {
			typ = "bool"
		}
		return fmt.Errorf("not a valid %s", typ)
	}
	if strings.HasSuffix(f.name, "addr") && v != "" {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return err
		}
	}
	return nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// The agent's documented environment overrides exist in its code, and the
// systemd unit uses only those and real flags.
func TestAgentUnit(t *testing.T) {
	_, agent := buildBinaries(t)
	out, _ := run(agent, "-h")
	i := strings.Index(out, "Usage of ")
	if i < 0 {
		t.Fatalf("sunproof-agent -h:\n%s", out)
	}
	flags := parseFlags(out[i:])
	b, err := os.ReadFile(filepath.Join(root, "deploy/sunproof-agent.service"))
	if err != nil {
		t.Fatal(err)
	}
	src := sourceEnvNames(t)
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "ExecStart="):
			args := strings.Fields(strings.TrimPrefix(line, "ExecStart="))
			for _, a := range args[1:] {
				if strings.HasPrefix(a, "-") {
					if _, ok := flags[strings.TrimLeft(a, "-")]; !ok {
						t.Errorf("unit: flag %s is not a sunproof-agent flag", a)
					}
				}
			}
		case strings.HasPrefix(line, "Environment="):
			k, _, _ := strings.Cut(strings.TrimPrefix(line, "Environment="), "=")
			if !src[k] {
				t.Errorf("unit: %s is read by no Go source", k)
			}
		}
	}
}
