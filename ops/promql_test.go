package ops

import (
	"bufio"
	"slices"
	"strings"
	"testing"
)

// promqlWords are the PromQL words that stand where a metric name could:
// binary and set operators, modifiers and aggregation operators (which,
// unlike functions, may be followed by a by/without clause before their
// parenthesis).
var promqlWords = map[string]bool{
	"and": true, "or": true, "unless": true, "atan2": true, "bool": true, "offset": true, "inf": true, "nan": true,
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true,
}

// labelListWords are followed by a parenthesised list of label names.
var labelListWords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// metricNames returns the metric names a PromQL expression selects, in
// order of appearance. It skips strings, label matchers, ranges, numbers,
// Grafana variables ($var, ${var}), function names and label lists; it is
// not a parser and assumes a valid expression (promtool checks that).
func metricNames(expr string) []string {
	var names []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(expr, i)
		case c == '{':
			i = skipTo(expr, i, '}')
		case c == '[':
			i = skipTo(expr, i, ']')
		case c == '$':
			i++
			if i < len(expr) && expr[i] == '{' {
				i = skipTo(expr, i, '}')
			}
			for i < len(expr) && isIdent(expr[i]) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.') {
				i++
			}
		case isIdent(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && strings.IndexByte(" \t\n", expr[k]) >= 0 {
				k++
			}
			i = j
			switch {
			case labelListWords[word]:
				if k < len(expr) && expr[k] == '(' {
					i = skipTo(expr, k, ')')
				}
			case promqlWords[word], k < len(expr) && expr[k] == '(':
				// An operator, or a function's name.
			default:
				names = append(names, word)
			}
		default:
			i++
		}
	}
	return names
}

func isIdent(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// skipString returns the index just after the string literal at i.
func skipString(s string, i int) int {
	q := s[i]
	for i++; i < len(s); i++ {
		switch {
		case s[i] == '\\' && q != '`':
			i++
		case s[i] == q:
			return i + 1
		}
	}
	return i
}

// skipTo returns the index just after the first close outside string
// literals, starting at i.
func skipTo(s string, i int, close byte) int {
	for i++; i < len(s); {
		switch s[i] {
		case '"', '\'', '`':
			i = skipString(s, i)
		case close:
			return i + 1
		default:
			i++
		}
	}
	return i
}

// ruleExprs returns the expr values of a Prometheus rules file. It reads
// the two forms alerts.yml uses, an inline value and a block scalar
// (expr: |), without a YAML library.
func ruleExprs(yaml string) []string {
	var exprs []string
	var block strings.Builder
	indent := -1 // the expr key's indentation while reading its block
	sc := bufio.NewScanner(strings.NewReader(yaml))
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		depth := len(line) - len(trimmed)
		if indent >= 0 {
			if trimmed == "" || depth > indent {
				block.WriteString(trimmed + "\n")
				continue
			}
			exprs = append(exprs, block.String())
			block.Reset()
			indent = -1
		}
		v, ok := strings.CutPrefix(trimmed, "expr:")
		if !ok {
			continue
		}
		switch v = strings.TrimSpace(v); {
		case strings.HasPrefix(v, "|") || strings.HasPrefix(v, ">"):
			indent = depth
		case len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0]:
			exprs = append(exprs, v[1:len(v)-1])
		default:
			exprs = append(exprs, v)
		}
	}
	if indent >= 0 {
		exprs = append(exprs, block.String())
	}
	return exprs
}

func TestMetricNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`up{job="journeys"} == 0`, []string{"up"}},
		{`sum by (instance, reason) (rate(journeys_statements_skipped_total{instance=~"$instance"}[$__rate_interval]))`,
			[]string{"journeys_statements_skipped_total"}},
		{`histogram_quantile(0.99, sum without (result) (rate(a_bucket{x="}"}[5m] offset 1h)))`, []string{"a_bucket"}},
		{"a > 300\nand on (job, instance)\n(rate(b[5m]) > 0 or c > 0)", []string{"a", "b", "c"}},
		{`x / ignoring(le) group_left(foo) y * 1e3 + z{a='b\'c'}`, []string{"x", "y", "z"}},
		{`label_replace(m, "dst", "$1", "src", "(.*)")`, []string{"m"}},
		{`max_over_time(r:recorded[10m]) > 0 unless on (job) topk(3, q)`, []string{"r:recorded", "q"}},
	} {
		if got := metricNames(c.expr); !slices.Equal(got, c.want) {
			t.Errorf("metricNames(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}

func TestRuleExprs(t *testing.T) {
	rules := `groups:
  - name: g
    rules:
      - alert: A
        expr: up == 0
        for: 5m
      - alert: B
        expr: |
          a > 1
          and b
        labels:
          severity: warning
      - record: c:sum
        expr: "sum(c)"
`
	want := []string{"up == 0", "a > 1\nand b\n", "sum(c)"}
	if got := ruleExprs(rules); !slices.Equal(got, want) {
		t.Errorf("ruleExprs = %q, want %q", got, want)
	}
}
