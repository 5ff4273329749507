package edge

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// The help text of shoal_edge_requests_total names every policy and result the node records
// (an operator writes alerts and dashboards from it). The values are read from this
// package's source: every string literal assigned to a variable named policy, result or
// res, returned as the first result of a function whose value is recorded as a result
// (found from those assignments, transitively through `return f(...)`), and every
// constant named result*. Failed before: the help listed 6 of the 15 results emitted and
// not the policy "purge".
func TestMetrics_requestsHelpNamesEveryPolicyAndResult(t *testing.T) {
	policies, results := recordedLabels(t)
	if len(results) < 10 || len(policies) < 4 {
		t.Fatalf("the source scan found too little: policies %v, results %v", policies, results)
	}
	help := requestsHelp(t)
	for _, v := range append(policies, results...) {
		if !strings.Contains(help, " "+v+",") && !strings.Contains(help, " "+v+")") && !strings.Contains(help, "("+v+",") {
			t.Errorf("the help of shoal_edge_requests_total does not list %q: %s", v, help)
		}
	}
}

func requestsHelp(t *testing.T) string {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	m.requests.WithLabelValues("cache", "hit").Inc()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "shoal_edge_requests_total" {
			return f.GetHelp()
		}
	}
	t.Fatal("no shoal_edge_requests_total")
	return ""
}

// recordedLabels scans the package's non-test files (see the test's comment).
func recordedLabels(t *testing.T) (policies, results []string) {
	t.Helper()
	fset := token.NewFileSet()
	names, _ := filepath.Glob("*.go")
	funcs := map[string]*ast.FuncDecl{}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				funcs[fd.Name.Name] = fd
			}
		}
	}
	pol, res := map[string]bool{}, map[string]bool{}
	resultFuncs := map[string]bool{}
	literal := func(e ast.Expr) (string, bool) {
		if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			s, err := strconv.Unquote(bl.Value)
			return s, err == nil && s != ""
		}
		return "", false
	}
	callee := func(e ast.Expr) string {
		if c, ok := e.(*ast.CallExpr); ok {
			switch fn := c.Fun.(type) {
			case *ast.SelectorExpr:
				return fn.Sel.Name
			case *ast.Ident:
				return fn.Name
			}
		}
		return ""
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch s := n.(type) {
			case *ast.AssignStmt:
				for i, lhs := range s.Lhs {
					id, ok := lhs.(*ast.Ident)
					if !ok {
						continue
					}
					var rhs ast.Expr
					if len(s.Rhs) == len(s.Lhs) {
						rhs = s.Rhs[i]
					} else if i == 0 && len(s.Rhs) == 1 {
						rhs = s.Rhs[0] // res, ok := p.f(...)
					}
					if rhs == nil {
						continue
					}
					switch id.Name {
					case "policy":
						if v, ok := literal(rhs); ok {
							pol[v] = true
						}
					case "result", "res":
						if v, ok := literal(rhs); ok {
							res[v] = true
						} else if c := callee(rhs); c != "" {
							resultFuncs[c] = true
						}
					}
				}
			case *ast.GenDecl:
				for _, spec := range s.Specs {
					if vs, ok := spec.(*ast.ValueSpec); ok && s.Tok == token.CONST {
						for i, id := range vs.Names {
							if strings.HasPrefix(id.Name, "result") && i < len(vs.Values) {
								if v, ok := literal(vs.Values[i]); ok {
									res[v] = true
								}
							}
						}
					}
				}
			}
			return true
		})
	}
	// The functions whose first string result is recorded, and what they return.
	for done := map[string]bool{}; len(done) < len(resultFuncs); {
		for name := range resultFuncs {
			if done[name] {
				continue
			}
			done[name] = true
			fd := funcs[name]
			if fd == nil || fd.Body == nil {
				continue
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if _, ok := n.(*ast.FuncLit); ok {
					return false
				}
				if r, ok := n.(*ast.ReturnStmt); ok && len(r.Results) > 0 {
					if v, ok := literal(r.Results[0]); ok {
						res[v] = true
					} else if c := callee(r.Results[0]); c != "" {
						resultFuncs[c] = true
					}
				}
				return true
			})
		}
	}
	for v := range pol {
		policies = append(policies, v)
	}
	for v := range res {
		results = append(results, v)
	}
	sort.Strings(policies)
	sort.Strings(results)
	return policies, results
}
