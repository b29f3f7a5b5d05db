package deploytest

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type stage struct {
	base, name string
	instrs     []instr
}

type instr struct{ op, args string }

// parseDockerfile returns the build stages, with ARGs declared before the
// first FROM substituted in FROM lines.
func parseDockerfile(t *testing.T) []stage {
	t.Helper()
	text := strings.ReplaceAll(readFile(t, "Dockerfile"), "\\\n", " ")
	globalArgs := map[string]string{}
	var stages []stage
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		op, args, _ := strings.Cut(line, " ")
		op, args = strings.ToUpper(op), strings.TrimSpace(args)
		switch {
		case op == "ARG" && len(stages) == 0:
			k, v, _ := strings.Cut(args, "=")
			globalArgs[k] = v
		case op == "FROM":
			f := strings.Fields(args)
			base := regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(f[0], func(s string) string {
				return globalArgs[strings.Trim(s, "${}")]
			})
			st := stage{base: base}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
		case len(stages) == 0:
			t.Fatalf("Dockerfile: %s before the first FROM", op)
		default:
			stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, instr{op, args})
		}
	}
	return stages
}

// versionAtLeast compares dotted numeric versions.
func versionAtLeast(have, want string) bool {
	h, w := strings.Split(have, "."), strings.Split(want, ".")
	for i := range w {
		wn, _ := strconv.Atoi(w[i])
		hn := 0
		if i < len(h) {
			hn, _ = strconv.Atoi(h[i])
		}
		if hn != wn {
			return hn > wn
		}
	}
	return true
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t)
	byName := map[string]stage{}
	for _, s := range stages {
		byName[s.name] = s
	}

	// Build stage: a Go toolchain no older than go.mod asks for.
	b, ok := byName["build"]
	if !ok {
		t.Fatal("no stage named build")
	}
	goMod := regexp.MustCompile(`(?m)^go (\S+)`).FindStringSubmatch(readFile(t, "go.mod"))
	tag := regexp.MustCompile(`^golang:(\d+\.\d+(?:\.\d+)?)`).FindStringSubmatch(b.base)
	if goMod == nil || tag == nil || !versionAtLeast(tag[1], goMod[1]) {
		t.Errorf("build stage FROM %s: want golang:X with X ≥ go.mod's go %v (GOTOOLCHAIN=local in the image)", b.base, goMod)
	}
	cgoOff := slices.ContainsFunc(b.instrs, func(i instr) bool {
		return i.op == "ENV" && regexp.MustCompile(`\bCGO_ENABLED=0\b`).MatchString(i.args)
	})
	built := map[string]bool{}
	for _, i := range b.instrs {
		if i.op != "RUN" {
			continue
		}
		for _, cmd := range strings.Split(i.args, "&&") {
			if !strings.Contains(cmd, "go build") {
				continue
			}
			if !cgoOff && !strings.Contains(cmd, "CGO_ENABLED=0") {
				t.Errorf("RUN %q: go build without CGO_ENABLED=0: the runtime image has no C library", strings.TrimSpace(cmd))
			}
			for _, pkg := range []string{"./cmd/sunproof", "./cmd/sunproof-agent"} {
				if regexp.MustCompile(regexp.QuoteMeta(pkg) + `(\s|$)`).MatchString(cmd) {
					built[pkg] = true
				}
			}
		}
	}
	for _, pkg := range []string{"./cmd/sunproof", "./cmd/sunproof-agent"} {
		if !built[pkg] {
			t.Errorf("the build stage does not go build %s", pkg)
		}
	}

	// Runtime stage: last (the default target), small, non-root, both binaries.
	rt := stages[len(stages)-1]
	if rt.name != "runtime" {
		t.Errorf("the last stage (docker build's default target) is %q, want runtime", rt.name)
	}
	if !regexp.MustCompile(`^(alpine:\d+\.\d+|gcr\.io/distroless/static[\w.-]*(:[\w.-]+)?|scratch)$`).MatchString(rt.base) {
		t.Errorf("runtime FROM %s: want a small base (pinned alpine, distroless/static or scratch)", rt.base)
	}
	var user, entry string
	copied := map[string]bool{}
	for _, i := range rt.instrs {
		switch i.op {
		case "RUN":
			if regexp.MustCompile(`\b(apk add|apt-get|go build|go install)\b`).MatchString(i.args) {
				t.Errorf("runtime RUN %q: installs or builds in the runtime image", i.args)
			}
		case "COPY":
			if strings.HasPrefix(i.args, "--from=build ") {
				for _, f := range strings.Fields(i.args) {
					copied[f[strings.LastIndex(f, "/")+1:]] = true
				}
			}
		case "USER":
			user = i.args
		case "ENTRYPOINT":
			entry = i.args
		}
	}
	for _, bin := range []string{"sunproof", "sunproof-agent"} {
		if !copied[bin] {
			t.Errorf("runtime stage does not COPY --from=build %s", bin)
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("runtime USER %q: want a numeric non-root uid (volumes and pki-init chown to it)", user)
	} else if !strings.Contains(readFile(t, "deploy/compose/pki/init.sh"), "RUNTIME_UID="+uid) {
		t.Errorf("runtime uid %s: pki/init.sh chowns the collector's key to another uid", uid)
	}
	if !strings.Contains(entry, "/usr/local/bin/sunproof\"") {
		t.Errorf("runtime ENTRYPOINT %s: want [\"/usr/local/bin/sunproof\"] (compose commands start with the subcommand)", entry)
	}

	// Every build target the compose file names exists.
	for name, s := range loadCompose(t).Services {
		if s.Build == nil {
			continue
		}
		if _, ok := byName[s.Build.Target]; !ok || s.Build.Context != "." {
			t.Errorf("%s: build context %q target %q: want context . and a stage of Dockerfile", name, s.Build.Context, s.Build.Target)
		}
	}

	// The pki stage copies the script the compose file relies on.
	if p, ok := byName["pki"]; !ok || !slices.ContainsFunc(p.instrs, func(i instr) bool {
		return i.op == "COPY" && strings.HasPrefix(i.args, "deploy/compose/pki/init.sh ")
	}) {
		t.Error("no pki stage copying deploy/compose/pki/init.sh")
	}
}

func TestDockerignore(t *testing.T) {
	lines := strings.Fields(readFile(t, ".dockerignore"))
	for _, want := range []string{".git", ".stack", ".env", "deploy/compose/secrets", "bin"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore: %s missing (it would enter the build context)", want)
		}
	}
	for _, l := range lines {
		for _, needed := range []string{"go.mod", "go.sum", "cmd", "deploy/compose/pki", "dashboards"} {
			if strings.TrimPrefix(l, "/") == needed {
				t.Errorf(".dockerignore excludes %s, which the build needs", needed)
			}
		}
	}
}
