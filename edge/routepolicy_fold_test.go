package edge

import (
	"sort"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/edge/policy"
	"github.com/valyala/fasthttp"
)

// wordpressResponse is the response field rules of examples/wordpress/shoal.yaml.
func wordpressResponse(t testing.TB) *policy.FieldEdits {
	r, err := policy.Compile(policy.Config{Response: policy.FieldRules{
		Set: map[string]string{"Strict-Transport-Security": "max-age=31536000", "X-Content-Type-Options": "nosniff",
			"X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "strict-origin-when-cross-origin"},
		Remove: []string{"X-Powered-By"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return r.Response
}

// responseLines is the header's lines as "name: value", sorted: fasthttp's delete moves the
// last line into the gap, and the order of different fields carries no meaning (RFC 9110
// section 5.3).
func responseLines(h *fasthttp.ResponseHeader) string {
	var lines []string
	for k, v := range h.All() {
		lines = append(lines, string(k)+": "+string(v)+"\n")
	}
	sort.Strings(lines)
	return strings.Join(lines, "")
}

// The one-walk removal must find every spelling and every line of a name, also past the
// room its stack arrays have (16 lines, 256 bytes of names), and keep every other line.
func TestResponseFieldsFold_DelAll(t *testing.T) {
	long := "X-" + strings.Repeat("Long", 70) // 282 bytes: more than the stack buffer alone
	cases := []struct {
		name  string
		lines [][2]string
		drop  []string
		want  string
	}{
		{"every spelling", [][2]string{{"x-powered-by", "PHP"}, {"X-Powered-By", "PHP"}, {"X-POWERED-BY", "PHP"}, {"Vary", "Accept"}},
			[]string{"X-Powered-By"}, "Vary: Accept\n"},
		{"several names", [][2]string{{"x-frame-options", "DENY"}, {"ETag", `"1"`}, {"referrer-policy", "no-referrer"}},
			[]string{"X-Powered-By", "X-Frame-Options", "Referrer-Policy"}, "ETag: \"1\"\n"},
		{"nothing listed", [][2]string{{"ETag", `"1"`}}, []string{"X-Powered-By"}, "ETag: \"1\"\n"},
		{"more lines than the stack holds", repeatLines("x-tag", 20), []string{"X-Tag"}, ""},
		{"longer names than the stack holds", [][2]string{{long, "1"}, {strings.ToLower(long), "2"}, {"ETag", `"1"`}},
			[]string{long}, "ETag: \"1\"\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h fasthttp.ResponseHeader
			h.DisableNormalizing()
			h.SetNoDefaultContentType(true)
			for _, l := range c.lines {
				h.Add(l[0], l[1])
			}
			responseFieldsFold{&h}.DelAll(c.drop)
			if got := responseLines(&h); got != c.want {
				t.Errorf("left\n%swant\n%s", got, c.want)
			}
		})
	}
}

func repeatLines(name string, n int) [][2]string {
	out := make([][2]string, n)
	for i := range out {
		out[i] = [2]string{name, "v"}
	}
	return out
}

func TestListFieldsFold_DelAll(t *testing.T) {
	var h fieldList
	h.Reset()
	h.Add("x-debug", "1")
	h.Add("X-DEBUG", "2")
	h.Add("Accept", "*/*")
	listFieldsFold{&h}.DelAll([]string{"X-Debug", "X-Edge"})
	for k := range h.All() {
		if strings.EqualFold(string(k), "X-Debug") {
			t.Errorf("%s left", k)
		}
	}
	if string(h.Peek("Accept")) != "*/*" {
		t.Error("Accept removed")
	}
}

// The response rules of the WordPress example on a hit whose stored header has the field
// they remove: the edit itself allocates nothing (it allocated twice per hit, copying the
// name it found, when each rule walked the fields on its own).
func TestResponseFieldsFold_RulesAllocateNothing(t *testing.T) {
	e := wordpressResponse(t)
	var h fasthttp.ResponseHeader
	h.DisableNormalizing()
	buf := make([]byte, 0, 256)
	var v policy.Vars
	fill := func() {
		h.Reset()
		h.DisableNormalizing()
		h.SetContentType("text/css")
		h.Add("X-Powered-By", "PHP/8.2")
		h.Add("ETag", `"v1"`)
		h.Add("Cache-Status", "shoal; hit")
	}
	fill()
	buf = e.Apply(responseFieldsFold{&h}, &v, buf)
	want := "Cache-Status: shoal; hit\nContent-Type: text/css\nETag: \"v1\"\nReferrer-Policy: strict-origin-when-cross-origin\n" +
		"Strict-Transport-Security: max-age=31536000\nX-Content-Type-Options: nosniff\nX-Frame-Options: SAMEORIGIN\n"
	if got := responseLines(&h); got != want {
		t.Fatalf("edited header\n%swant\n%s", got, want)
	}
	if n := testing.AllocsPerRun(200, func() {
		fill()
		buf = e.Apply(responseFieldsFold{&h}, &v, buf)
	}); n != 0 {
		t.Errorf("5 response rules allocated %v times per response", n)
	}
}

// BenchmarkResponseFieldsFold_Apply5 is the response rules of the WordPress example on the
// header of a 1 KiB hit: what those 5 rules add to BenchmarkNode_hitPolicy/rules=5.
// Run: go test -run '^$' -bench ResponseFieldsFold -benchmem ./edge/
func BenchmarkResponseFieldsFold_Apply5(b *testing.B) {
	e := wordpressResponse(b)
	var h fasthttp.ResponseHeader
	buf := make([]byte, 0, 256)
	var v policy.Vars
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h.Reset()
		h.DisableNormalizing()
		h.SetContentType("text/plain")
		h.SetContentLength(1024)
		h.Add("Cache-Control", "max-age=3600")
		h.Add("X-Powered-By", "PHP/8.2")
		h.Add("Age", "12")
		h.Add("Cache-Status", "shoal; hit; ttl=3588; detail=bench")
		buf = e.Apply(responseFieldsFold{&h}, &v, buf)
	}
}
