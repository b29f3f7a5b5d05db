package dashboards

// A small InfluxQL reader for the dashboard tests: enough of the language to
// find every measurement, field and tag a query names, and to check how it
// uses them. It is not a full parser: statements it does not understand are
// errors, so that a new kind of query extends this file instead of slipping
// past the schema check.

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

type tokKind int

const (
	tIdent  tokKind = iota // bare identifier or keyword
	tQIdent                // "double-quoted identifier"
	tString                // 'single-quoted string'
	tNumber                // 12, 1.5, 15m (durations are numbers with a unit)
	tRegex                 // /.../ after =~ or !~
	tVar                   // Grafana variable: $x, ${x}, ${x:fmt}, [[x]]
	tOp                    // = != <> < <= > >= =~ !~ + - * / %
	tPunct                 // ( ) , ; . ::
)

type token struct {
	kind tokKind
	text string // identifiers unquoted; strings and regexes without delimiters
}

func (t token) String() string {
	switch t.kind {
	case tQIdent:
		return `"` + t.text + `"`
	case tString:
		return "'" + t.text + "'"
	case tRegex:
		return "/" + t.text + "/"
	}
	return t.text
}

func (t token) isIdent() bool { return t.kind == tIdent || t.kind == tQIdent }

// is reports whether t is the bare keyword kw (case-insensitive).
func (t token) is(kw string) bool { return t.kind == tIdent && strings.EqualFold(t.text, kw) }

func (t token) isPunct(p string) bool { return t.kind == tPunct && t.text == p }

var varRe = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\]`)

// grafanaVars returns the names of the Grafana variables in s.
func grafanaVars(s string) []string {
	var out []string
	for _, m := range varRe.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1]+m[2]+m[3])
	}
	return out
}

func lex(q string) ([]token, error) {
	var toks []token
	r := []rune(q)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '-' && i+1 < len(r) && r[i+1] == '-': // comment to end of line
			for i < len(r) && r[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for ; j < len(r) && r[j] != c; j++ {
				if r[j] == '\\' && j+1 < len(r) {
					j++
				}
				b.WriteRune(r[j])
			}
			if j >= len(r) {
				return nil, fmt.Errorf("unterminated %c at offset %d", c, i)
			}
			k := tQIdent
			if c == '\'' {
				k = tString
			}
			toks = append(toks, token{k, b.String()})
			i = j + 1
		case c == '/' && len(toks) > 0 && toks[len(toks)-1].kind == tOp &&
			(toks[len(toks)-1].text == "=~" || toks[len(toks)-1].text == "!~"):
			j := i + 1
			var b strings.Builder
			for ; j < len(r) && r[j] != '/'; j++ {
				if r[j] == '\\' && j+1 < len(r) {
					b.WriteRune(r[j])
					j++
				}
				b.WriteRune(r[j])
			}
			if j >= len(r) {
				return nil, fmt.Errorf("unterminated regex at offset %d", i)
			}
			toks = append(toks, token{tRegex, b.String()})
			i = j + 1
		case c == '$' || (c == '[' && i+1 < len(r) && r[i+1] == '['):
			loc := varRe.FindStringIndex(string(r[i:]))
			if loc == nil || loc[0] != 0 {
				return nil, fmt.Errorf("bad variable at offset %d", i)
			}
			v := string(r[i:])[:loc[1]]
			toks = append(toks, token{tVar, v})
			i += len([]rune(v))
		case unicode.IsDigit(c) || (c == '.' && i+1 < len(r) && unicode.IsDigit(r[i+1])):
			j := i
			for j < len(r) && (unicode.IsDigit(r[j]) || r[j] == '.') {
				j++
			}
			for j < len(r) && unicode.IsLetter(r[j]) { // duration unit: ns u µ ms s m h d w
				j++
			}
			toks = append(toks, token{tNumber, string(r[i:j])})
			i = j
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || r[j] == '_') {
				j++
			}
			toks = append(toks, token{tIdent, string(r[i:j])})
			i = j
		default:
			two := ""
			if i+1 < len(r) {
				two = string(r[i : i+2])
			}
			switch two {
			case "!=", "<>", "<=", ">=", "=~", "!~":
				toks = append(toks, token{tOp, two})
				i += 2
				continue
			case "::":
				toks = append(toks, token{tPunct, two})
				i += 2
				continue
			}
			switch c {
			case '=', '<', '>', '+', '-', '*', '/', '%':
				toks = append(toks, token{tOp, string(c)})
			case '(', ')', ',', ';', '.':
				toks = append(toks, token{tPunct, string(c)})
			default:
				return nil, fmt.Errorf("unexpected %q at offset %d", c, i)
			}
			i++
		}
	}
	return toks, nil
}

// kind of a name in a measurement.
type kind int

const (
	kindTag kind = iota + 1
	kindInt
	kindFloat
	kindString
	kindBool
	kindNumber // a computed column of a subquery: some number
)

func (k kind) String() string {
	return [...]string{"?", "tag", "integer field", "float field", "string field", "boolean field", "computed number"}[k]
}

func (k kind) numeric() bool { return k == kindInt || k == kindFloat || k == kindNumber }

// schema maps measurement → name → kind.
type schema map[string]map[string]kind

// use is one checked reference, for coverage reports.
type use struct{ measurement, name string }

// checker validates queries against a schema.
type checker struct {
	schema schema
	// vars: Grafana variable name → whether it can hold several values.
	vars map[string]bool
	used map[use]bool
}

var builtinVars = map[string]bool{
	"timeFilter": true, "__timeFilter": true, "__interval": true, "interval": true, "__interval_ms": true,
	"__range": true, "__range_s": true, "__range_ms": true, "__from": true, "__to": true,
}

// InfluxQL functions the dashboards may use.
var functions = map[string]bool{
	"count": true, "distinct": true, "integral": true, "mean": true, "median": true, "mode": true, "spread": true,
	"stddev": true, "sum": true, "bottom": true, "first": true, "last": true, "max": true, "min": true,
	"percentile": true, "sample": true, "top": true, "abs": true, "ceil": true, "floor": true, "round": true,
	"cumulative_sum": true, "derivative": true, "difference": true, "elapsed": true, "moving_average": true,
	"non_negative_derivative": true, "non_negative_difference": true,
}

var clauseWords = []string{"FROM", "WHERE", "GROUP", "ORDER", "LIMIT", "OFFSET", "SLIMIT", "SOFFSET", "fill", "tz"}

func isClauseWord(t token) bool {
	for _, w := range clauseWords {
		if t.is(w) {
			return true
		}
	}
	return false
}

// check validates every statement of q and returns the columns of the last
// SELECT (nil for other statements).
func (c *checker) check(q string) (map[string]kind, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	for _, t := range toks {
		if t.kind == tVar || t.kind == tString || t.kind == tRegex {
			for _, v := range grafanaVars(t.text) {
				if !builtinVars[v] {
					if _, ok := c.vars[v]; !ok {
						return nil, fmt.Errorf("variable $%s is not defined in the dashboard's templating", v)
					}
				}
			}
		}
	}
	var cols map[string]kind
	start, n := 0, 0
	for i := 0; i <= len(toks); i++ {
		if i == len(toks) || toks[i].isPunct(";") {
			if i > start {
				n++
				if cols, err = c.statement(toks[start:i]); err != nil {
					return nil, err
				}
			}
			start = i + 1
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("empty query")
	}
	return cols, nil
}

func (c *checker) statement(toks []token) (map[string]kind, error) {
	switch {
	case toks[0].is("SELECT"):
		return c.selectStmt(toks)
	case len(toks) >= 3 && toks[0].is("SHOW") && toks[1].is("TAG") && toks[2].is("VALUES"):
		return nil, c.showTagValues(toks[3:])
	}
	return nil, fmt.Errorf("unsupported statement %q: extend influxql_test.go", join(toks))
}

func join(toks []token) string {
	s := make([]string, len(toks))
	for i, t := range toks {
		s[i] = t.String()
	}
	return strings.Join(s, " ")
}

// matching returns the index of the parenthesis closing toks[open].
func matching(toks []token, open int) (int, error) {
	depth := 0
	for i := open; i < len(toks); i++ {
		switch {
		case toks[i].isPunct("("):
			depth++
		case toks[i].isPunct(")"):
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("unbalanced parentheses in %q", join(toks))
}

// selectStmt checks a SELECT and returns the columns it produces (for an
// enclosing query that selects from it).
func (c *checker) selectStmt(toks []token) (map[string]kind, error) {
	// Split into clauses at depth 0.
	clauses := map[string][]token{}
	cur := "SELECT"
	seen := map[string]bool{cur: true}
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		if t.isPunct("(") {
			j, err := matching(toks, i)
			if err != nil {
				return nil, err
			}
			clauses[cur] = append(clauses[cur], toks[i:j+1]...)
			i = j
			continue
		}
		if isClauseWord(t) && !(t.is("fill") || t.is("tz")) || (t.is("fill") || t.is("tz")) && i+1 < len(toks) && toks[i+1].isPunct("(") {
			name := strings.ToUpper(t.text)
			if name == "GROUP" || name == "ORDER" {
				if i+1 >= len(toks) || !toks[i+1].is("BY") {
					return nil, fmt.Errorf("%s without BY", name)
				}
				i++
			}
			if seen[name] {
				return nil, fmt.Errorf("clause %s twice at the same level", name)
			}
			seen[name] = true
			cur = name
			if name == "FILL" || name == "TZ" {
				clauses[cur] = append(clauses[cur], t)
			}
			continue
		}
		clauses[cur] = append(clauses[cur], t)
	}
	if len(clauses["FROM"]) == 0 {
		return nil, fmt.Errorf("SELECT without FROM: %q", join(toks))
	}

	// Sources: measurements or one subquery.
	scope := map[string]kind{}
	var measurements []string
	from := clauses["FROM"]
	if from[0].isPunct("(") {
		if !from[len(from)-1].isPunct(")") || len(from) < 3 || !from[1].is("SELECT") {
			return nil, fmt.Errorf("FROM ( … ) must hold exactly one SELECT: %q", join(from))
		}
		cols, err := c.selectStmt(from[1 : len(from)-1])
		if err != nil {
			return nil, fmt.Errorf("subquery: %w", err)
		}
		scope = cols
	} else {
		for _, part := range splitTop(from, ",") {
			m := part[len(part)-1] // "db"."rp"."m" → m
			if !m.isIdent() {
				return nil, fmt.Errorf("FROM %q: want a measurement name (regex sources are not allowed)", join(part))
			}
			fields, ok := c.schema[m.text]
			if !ok {
				return nil, fmt.Errorf("measurement %q is not written by any Sunproof service", m.text)
			}
			measurements = append(measurements, m.text)
			for n, k := range fields {
				scope[n] = k
			}
		}
	}
	ref := func(name, where string) (kind, error) {
		k, ok := scope[name]
		if !ok {
			return 0, fmt.Errorf("%s: %q is not a field or tag of %v", where, name, sourceName(measurements))
		}
		for _, m := range measurements {
			c.used[use{m, name}] = true
		}
		return k, nil
	}

	// SELECT list.
	out := map[string]kind{}
	for _, expr := range splitTop(clauses["SELECT"], ",") {
		alias := ""
		if n := len(expr); n >= 2 && expr[n-2].is("AS") {
			alias, expr = expr[n-1].text, expr[:n-2]
		}
		var outKind kind
		isCall := false
		for i := 0; i < len(expr); i++ {
			t := expr[i]
			switch {
			case t.kind == tIdent && i+1 < len(expr) && expr[i+1].isPunct("("):
				if !functions[strings.ToLower(t.text)] {
					return nil, fmt.Errorf("SELECT: unknown function %s()", t.text)
				}
				isCall = true
			case t.isPunct("::"):
				i++ // ::field / ::tag cast
			case t.isIdent():
				k, err := ref(t.text, "SELECT")
				if err != nil {
					return nil, err
				}
				outKind = k
				if alias == "" && !isCall && len(expr) == 1 {
					out[t.text] = k
				}
			case t.kind == tOp && t.text == "*" && len(expr) == 1:
				return nil, fmt.Errorf("SELECT *: name the fields")
			case t.kind == tString || t.kind == tRegex:
				return nil, fmt.Errorf("SELECT: unexpected %s", t)
			}
		}
		switch {
		case alias != "":
			out[alias] = kindNumber
			if !isCall && len(expr) == 1 {
				out[alias] = outKind
			}
		case isCall:
			out[strings.ToLower(expr[0].text)] = kindNumber // InfluxDB names an unaliased call after the function
		}
	}

	// WHERE.
	hasTime, err := c.where(clauses["WHERE"], ref)
	if err != nil {
		return nil, err
	}

	// GROUP BY: time(…) and tags only.
	groupTime := false
	for _, g := range splitTop(clauses["GROUP"], ",") {
		switch {
		case len(g) >= 3 && g[0].is("time") && g[1].isPunct("("):
			groupTime = true
		case len(g) == 1 && g[0].isIdent():
			k, err := ref(g[0].text, "GROUP BY")
			if err != nil {
				return nil, err
			}
			if k != kindTag {
				return nil, fmt.Errorf("GROUP BY %q: a %s, not a tag (InfluxDB would not group by it)", g[0].text, k)
			}
			out[g[0].text] = kindTag
		default:
			return nil, fmt.Errorf("GROUP BY %q: want time(…) or a tag", join(g))
		}
	}
	if groupTime && !hasTime {
		return nil, fmt.Errorf("GROUP BY time(…) without a time condition in WHERE (InfluxDB refuses it): %q", join(toks))
	}
	if o := clauses["ORDER"]; len(o) > 0 && !o[0].is("time") {
		return nil, fmt.Errorf("ORDER BY %q: InfluxDB orders by time only", join(o))
	}
	return out, nil
}

func sourceName(ms []string) string {
	if len(ms) == 0 {
		return "the subquery's columns"
	}
	return "measurement " + strings.Join(ms, ", ")
}

// splitTop splits toks at sep at parenthesis depth 0.
func splitTop(toks []token, sep string) [][]token {
	var out [][]token
	depth, start := 0, 0
	for i, t := range toks {
		switch {
		case t.isPunct("("):
			depth++
		case t.isPunct(")"):
			depth--
		case t.isPunct(sep) && depth == 0:
			out = append(out, toks[start:i])
			start = i + 1
		}
	}
	if start < len(toks) {
		out = append(out, toks[start:])
	}
	return out
}

var compareOps = map[string]bool{"=": true, "!=": true, "<>": true, "<": true, "<=": true, ">": true, ">=": true, "=~": true, "!~": true}

// where checks a WHERE clause: every name exists, and each comparison has
// operands of matching types. It reports whether the clause restricts time.
func (c *checker) where(toks []token, ref func(name, where string) (kind, error)) (hasTime bool, err error) {
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == tVar && (t.text == "$timeFilter" || t.text == "$__timeFilter"):
			hasTime = true
		case t.is("time"):
			hasTime = true
		case t.is("now") || t.is("AND") || t.is("OR") || t.is("true") || t.is("false"):
		case t.kind == tIdent && i+1 < len(toks) && toks[i+1].isPunct("("):
			return false, fmt.Errorf("WHERE: function %s() in a condition", t.text)
		case t.isIdent():
			k, err := ref(t.text, "WHERE")
			if err != nil {
				return false, err
			}
			if i+2 < len(toks) && toks[i+1].kind == tOp && compareOps[toks[i+1].text] {
				if err := c.compare(t.text, k, toks[i+1].text, toks[i+2]); err != nil {
					return false, err
				}
				i += 2
			}
		}
	}
	return hasTime, nil
}

// compare checks "name op operand".
func (c *checker) compare(name string, k kind, op string, v token) error {
	regexOp := op == "=~" || op == "!~"
	if regexOp != (v.kind == tRegex) {
		return fmt.Errorf("WHERE %q %s %s: =~ and !~ take a regex, the other operators do not", name, op, v)
	}
	// A multi-value variable expands to "(a|b)" or ".*": only a regex can hold it.
	if v.kind == tString || v.kind == tVar {
		for _, n := range grafanaVars(v.text) {
			if c.vars[n] {
				return fmt.Errorf("WHERE %q %s %s: $%s can hold several values; compare it with =~ /^$%s$/", name, op, v, n, n)
			}
		}
	}
	switch {
	case k == kindTag || k == kindString:
		if v.kind != tString && v.kind != tRegex {
			return fmt.Errorf("WHERE %q %s %s: %q is a %s, compare it with a 'string' or a /regex/", name, op, v, name, k)
		}
	case k.numeric():
		if v.kind != tNumber && v.kind != tVar && !(v.kind == tOp && v.text == "-") {
			return fmt.Errorf("WHERE %q %s %s: %q is a %s, compare it with a number", name, op, v, name, k)
		}
		if k == kindInt && v.kind == tNumber && strings.Contains(v.text, ".") {
			return fmt.Errorf("WHERE %q %s %s: %q is an integer field", name, op, v, name)
		}
	case k == kindBool:
		if !v.is("true") && !v.is("false") {
			return fmt.Errorf("WHERE %q %s %s: %q is a boolean field", name, op, v, name)
		}
	}
	return nil
}

// showTagValues checks `[FROM m] WITH KEY (= k | IN (k, …)) [WHERE …]`.
func (c *checker) showTagValues(toks []token) error {
	var measurements []string
	i := 0
	if i < len(toks) && toks[i].is("FROM") {
		i++
		if i >= len(toks) || !toks[i].isIdent() {
			return fmt.Errorf("SHOW TAG VALUES FROM: want a measurement")
		}
		if _, ok := c.schema[toks[i].text]; !ok {
			return fmt.Errorf("measurement %q is not written by any Sunproof service", toks[i].text)
		}
		measurements = append(measurements, toks[i].text)
		i++
	} else {
		for m := range c.schema {
			measurements = append(measurements, m)
		}
	}
	isTag := func(name string) bool {
		ok := false
		for _, m := range measurements {
			if c.schema[m][name] == kindTag {
				c.used[use{m, name}] = true
				ok = true
			}
		}
		return ok
	}
	if i+2 >= len(toks) || !toks[i].is("WITH") || !toks[i+1].is("KEY") {
		return fmt.Errorf("SHOW TAG VALUES: want WITH KEY")
	}
	i += 2
	var keys []token
	switch {
	case toks[i].kind == tOp && toks[i].text == "=":
		keys = toks[i+1 : i+2]
		i += 2
	case toks[i].is("IN") && i+1 < len(toks) && toks[i+1].isPunct("("):
		j, err := matching(toks, i+1)
		if err != nil {
			return err
		}
		for _, k := range splitTop(toks[i+2:j], ",") {
			keys = append(keys, k...)
		}
		i = j + 1
	default:
		return fmt.Errorf("SHOW TAG VALUES WITH KEY: want = or IN")
	}
	for _, k := range keys {
		if !k.isIdent() || !isTag(k.text) {
			return fmt.Errorf("SHOW TAG VALUES WITH KEY %s: not a tag of %v", k, measurements)
		}
	}
	if i < len(toks) {
		if !toks[i].is("WHERE") {
			return fmt.Errorf("SHOW TAG VALUES: unexpected %q", join(toks[i:]))
		}
		// Meta queries filter on tags only.
		_, err := c.where(toks[i+1:], func(name, where string) (kind, error) {
			if !isTag(name) {
				return 0, fmt.Errorf("SHOW TAG VALUES WHERE: %q is not a tag of %v", name, measurements)
			}
			return kindTag, nil
		})
		return err
	}
	return nil
}
