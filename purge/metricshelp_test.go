package purge

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Each purge metric's help names the label values the package emits: every kind
// (Kind* constants), source (source* constants) and refusal reason (reason* constants).
// Failed before: the help said "by kind and by where they came from" and "by reason" and
// named no value.
func TestMetrics_helpNamesEveryLabelValue(t *testing.T) {
	consts := map[string][]string{} // prefix -> values
	fset := token.NewFileSet()
	for _, name := range []string{"metrics.go", "request.go"} {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				for i, id := range vs.Names {
					for _, prefix := range []string{"Kind", "source", "reason"} {
						if strings.HasPrefix(id.Name, prefix) && i < len(vs.Values) {
							if bl, ok := vs.Values[i].(*ast.BasicLit); ok {
								v, _ := strconv.Unquote(bl.Value)
								consts[prefix] = append(consts[prefix], v)
							}
						}
					}
				}
			}
			return true
		})
	}
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.requests.WithLabelValues("url", "api").Inc()
	m.objects.WithLabelValues("url").Inc()
	m.refused.WithLabelValues("token").Inc()
	help := map[string]string{}
	families, _ := reg.Gather()
	for _, f := range families {
		help[f.GetName()] = f.GetHelp()
	}
	for metric, prefixes := range map[string][]string{
		"shoal_purge_requests_total": {"Kind", "source"},
		"shoal_purge_objects_total":  {"Kind"},
		"shoal_purge_refused_total":  {"reason"},
	} {
		for _, prefix := range prefixes {
			if len(consts[prefix]) == 0 {
				t.Fatalf("no %s constants found", prefix)
			}
			for _, v := range consts[prefix] {
				if !strings.Contains(help[metric], " "+v+",") && !strings.Contains(help[metric], " "+v+")") && !strings.Contains(help[metric], "("+v+",") {
					t.Errorf("%s's help does not name %q: %s", metric, v, help[metric])
				}
			}
		}
	}
}
