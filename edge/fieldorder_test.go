package edge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// reqLines and respLines list a head's lines as "Name: value", in order.
func reqLines(h *fieldList) string {
	var out []string
	for k, v := range h.All() {
		out = append(out, string(k)+": "+string(v))
	}
	return strings.Join(out, "\n")
}

func respLines(h *fasthttp.ResponseHeader) string {
	var out []string
	for k, v := range h.All() {
		out = append(out, string(k)+": "+string(v))
	}
	return strings.Join(out, "\n")
}

// onlyName keeps the lines of one name, in order.
func onlyName(lines, name string) string {
	var out []string
	for _, l := range strings.Split(lines, "\n") {
		if strings.HasPrefix(strings.ToLower(l), strings.ToLower(name)+":") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestDelFields_keepTheOrderOfAFieldsLines: deleting fields never reorders the lines of
// another field (RFC 9110 section 5.3). fasthttp's Del moves the last line into the hole, so
// a proxy chain "X-Forwarded-For: a, b" reached the origin as "b, a" when the client had
// also sent a hop-by-hop field, and a response rule's remove did the same to Link or Vary.
func TestDelFields_keepTheOrderOfAFieldsLines(t *testing.T) {
	tests := []struct {
		name   string
		fields [][2]string
		del    []string
		check  string
		gone   []string
	}{
		{"one hop-by-hop field before a list", [][2]string{{"Keep-Alive", "timeout=5"}, {"X-Forwarded-For", "a"}, {"X-Forwarded-For", "b"}}, []string{"Keep-Alive"}, "X-Forwarded-For", []string{"Keep-Alive"}},
		{"two deleted, three lines", [][2]string{{"X-Debug", "1"}, {"Accept", "x"}, {"Link", "</a>"}, {"X-Trace", "t"}, {"Link", "</b>"}, {"Link", "</c>"}}, []string{"x-debug", "X-TRACE"}, "Link", []string{"X-Debug", "X-Trace"}},
		{"interleaved names", [][2]string{{"A", "1"}, {"B", "1"}, {"A", "2"}, {"Drop", "x"}, {"B", "2"}}, []string{"Drop"}, "B", []string{"Drop"}},
		{"names in several spellings", [][2]string{{"X-A", "1"}, {"x-a", "2"}, {"drop", "z"}, {"DROP", "y"}, {"X-A", "3"}}, []string{"Drop"}, "X-A", []string{"Drop"}},
		{"nothing listed is present", [][2]string{{"A", "1"}, {"A", "2"}}, []string{"Z"}, "A", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req fieldList // a request the node sends (outgoing)
			var resp fasthttp.ResponseHeader
			req.Reset()
			resp.DisableNormalizing()
			for _, f := range tt.fields {
				req.Add(f[0], f[1])
				resp.Add(f[0], f[1])
			}
			wantReq, wantResp := onlyName(reqLines(&req), tt.check), onlyName(respLines(&resp), tt.check)
			for _, name := range tt.del {
				req.Del(name)
			}
			delResponseFields(&resp, tt.del)
			if got := onlyName(reqLines(&req), tt.check); got != wantReq {
				t.Errorf("request %s lines:\n%s\nwant\n%s", tt.check, got, wantReq)
			}
			if got := onlyName(respLines(&resp), tt.check); got != wantResp {
				t.Errorf("response %s lines:\n%s\nwant\n%s", tt.check, got, wantResp)
			}
			for _, g := range tt.gone {
				if onlyName(reqLines(&req), g) != "" || onlyName(respLines(&resp), g) != "" {
					t.Errorf("%s not deleted:\n%s\n--\n%s", g, reqLines(&req), respLines(&resp))
				}
			}
		})
	}
}

// TestDelFields_allocateNothing: the walk copies to the stack.
func TestDelFields_allocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are checked without -race")
	}
	var resp fasthttp.ResponseHeader
	resp.DisableNormalizing()
	allocs := testing.AllocsPerRun(100, func() {
		resp.Reset()
		resp.DisableNormalizing()
		resp.Add("X-Powered-By", "PHP")
		resp.Add("Link", "</a>")
		resp.Add("Link", "</b>")
		resp.Add("Cache-Control", "max-age=60")
		delResponseFields(&resp, []string{"X-Powered-By", "Server"})
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations", allocs)
	}
}

// TestNode_passKeepsTheOrderOfAFieldsLines: through a pass route, a client's hop-by-hop
// field is dropped and the lines of a list field reach the origin in the order sent.
func TestNode_passKeepsTheOrderOfAFieldsLines(t *testing.T) {
	got := make(chan []string, 1)
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Values("X-List")
		w.Header().Add("X-Out", "1")
		w.Header().Add("X-Out", "2")
		w.Write([]byte("ok"))
	})
	n := startNode(t, "node: {name: test-edge}\norigins:\n  o: {servers: [{url: "+o.URL+"}]}\nroutes:\n"+
		"  - {match: {path_prefix: /}, origin: o, cache: false, headers: {response: {remove: [X-Powered-By]}}}\n", Options{})
	raw := "GET /p HTTP/1.1\r\nHost: h\r\nKeep-Alive: timeout=5\r\nX-List: a\r\nX-List: b\r\nConnection: close\r\n\r\n"
	out := rawResponse(t, n.HTTPAddr(), raw)
	if l := <-got; strings.Join(l, ",") != "a,b" {
		t.Errorf("origin saw X-List %q, want a, b", l)
	}
	if !strings.Contains(out, "X-Out: 1\r\nX-Out: 2\r\n") {
		t.Errorf("response lines of X-Out out of order:\n%s", out)
	}
}
