package httpcache

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPackedHeader_keepsFieldsOrderAndCase(t *testing.T) {
	wide := strings.Repeat("x", 70_000) // past 64 KiB: offsets four bytes wide
	tests := []struct {
		name string
		h    Header
	}{
		{"none", nil},
		{"one", hdr("ETag", `"a"`)},
		{"empty value and empty name", Header{{Name: "X-Empty", Value: ""}, {Name: "", Value: "v"}}},
		{"repeated names keep their order", hdr("Vary", "A", "Cache-Control", "max-age=1", "vary", "B")},
		{"nginx head", hdr("Server", "nginx/1.22.1", "Date", at(0), "Content-Type", "text/html",
			"Last-Modified", at(-time.Hour), "ETag", `"692bea52-400"`, "Expires", at(time.Hour),
			"Cache-Control", "max-age=3600", "Accept-Ranges", "bytes")},
		{"a value past 64 KiB", hdr("A", "1", "X-Big", wide, "B", "2")},
		{"a name past 64 KiB", Header{{Name: wide, Value: "v"}, {Name: "Z", Value: wide}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Pack(tt.h)
			if p.Len() != len(tt.h) {
				t.Fatalf("Len = %d, want %d", p.Len(), len(tt.h))
			}
			for i, f := range tt.h {
				if got := p.Field(i); got != f {
					t.Errorf("Field(%d) = %q, want %q", i, got, f)
				}
			}
			if got := p.Header(); !reflect.DeepEqual(got, tt.h) {
				t.Errorf("Header() = %v, want %v", got, tt.h)
			}
			if p.Size() != tt.h.Size() {
				t.Errorf("Size = %d, want Header.Size %d", p.Size(), tt.h.Size())
			}
			for _, f := range tt.h {
				for _, name := range []string{f.Name, strings.ToUpper(f.Name), strings.ToLower(f.Name)} {
					if got, want := p.Get(name), tt.h.Get(name); got != want {
						t.Errorf("Get(%.20q) = %.20q, want %.20q", name, got, want)
					}
					if got, want := p.View().Get(name), tt.h.Get(name); got != want {
						t.Errorf("View().Get(%.20q) = %.20q, want %.20q", name, got, want)
					}
				}
			}
			if p.Has("Absent") || p.Get("Absent") != "" {
				t.Error("an absent field is present")
			}
		})
	}
}

// A stored response is read in place from its PackedHeader (Response.Packed): every rule
// that reads a stored response's fields answers as it does for the same fields in a Header.
// (Reading Response.Header alone, a packed response had no Age, no validators, no Date.)
func TestResponse_packedReadsAsHeader(t *testing.T) {
	stored := []Header{
		hdr("Date", at(-10*time.Second), "Age", "30", "ETag", `"a"`, "Last-Modified", at(-time.Hour),
			"Cache-Control", "max-age=60", "Content-Length", "10"),
		hdr("Expires", at(time.Minute), "Last-Modified", at(-2*time.Hour), "ETag", `W/"w"`),
		hdr("Last-Modified", at(-24*time.Hour)),
		hdr("Age", "5, 7", "Date", at(-time.Minute)),
		nil,
	}
	requests := []Header{
		nil,
		hdr("If-None-Match", `"a"`),
		hdr("If-None-Match", `W/"w"`),
		hdr("If-Modified-Since", at(-time.Hour)),
		hdr("If-Match", `"b"`),
		hdr("If-Unmodified-Since", at(-2*time.Hour)),
		hdr("Cache-Control", "max-age=5"),
	}
	head := resp(200, "ETag", `"a"`, "Last-Modified", at(-time.Hour), "Content-Length", "10")
	var p Policy
	now := t0.Add(20 * time.Second)
	for i, h := range stored {
		plain := Response{Status: 200, Header: h, RequestTime: t0.Add(-time.Second), ResponseTime: t0}
		packed := plain
		packed.Header, packed.Packed = nil, Pack(h)
		d := p.Storable(getReq(), plain)
		if got := p.Storable(getReq(), packed); !reflect.DeepEqual(got, d) {
			t.Errorf("stored %d: Storable = %+v, want %+v", i, got, d)
		}
		if got, want := CurrentAge(packed, now), CurrentAge(plain, now); got != want {
			t.Errorf("stored %d: CurrentAge = %v, want %v", i, got, want)
		}
		if got, want := ConditionalHeaders(packed), ConditionalHeaders(plain); !reflect.DeepEqual(got, want) {
			t.Errorf("stored %d: ConditionalHeaders = %v, want %v", i, got, want)
		}
		if got, want := HeadFreshens(packed, head), HeadFreshens(plain, head); got != want {
			t.Errorf("stored %d: HeadFreshens = %v, want %v", i, got, want)
		}
		if got, want := FreshenResponse(packed, head), FreshenResponse(plain, head); !reflect.DeepEqual(got, want) {
			t.Errorf("stored %d: FreshenResponse = %+v, want %+v", i, got, want)
		}
		for _, ir := range []string{`"a"`, at(-time.Hour), `W/"w"`} {
			if got, want := IfRangeMatches(ir, packed), IfRangeMatches(ir, plain); got != want {
				t.Errorf("stored %d: IfRangeMatches(%s) = %v, want %v", i, ir, got, want)
			}
		}
		for j, rh := range requests {
			req := Request{Method: "GET", Header: rh}
			if got, want := p.Evaluate(req, packed, d, now), p.Evaluate(req, plain, d, now); got != want {
				t.Errorf("stored %d, request %d: Evaluate = %+v, want %+v", i, j, got, want)
			}
			if got, want := EvaluateConditional("GET", rh, packed), EvaluateConditional("GET", rh, plain); got != want {
				t.Errorf("stored %d, request %d: EvaluateConditional = %d, want %d", i, j, got, want)
			}
		}
	}
}

func FuzzPack(f *testing.F) {
	f.Add("ETag", `"a"`, "Vary", "A")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		h := Header{{Name: n1, Value: v1}, {Name: n2, Value: v2}}
		if got := Pack(h).Header(); !reflect.DeepEqual(got, h) {
			t.Fatalf("Pack(%q).Header() = %q", h, got)
		}
	})
}

// BenchmarkPackedHeader_Get reads a field from a stored nginx head, packed and as a Header:
// the last field, and an absent one (a hit asks for Age, which most stored heads lack).
func BenchmarkPackedHeader_Get(b *testing.B) {
	h := hdr("Server", "nginx/1.22.1", "Date", at(0), "Content-Type", "text/html",
		"Last-Modified", at(-time.Hour), "ETag", `"692bea52-400"`, "Expires", at(time.Hour),
		"Cache-Control", "max-age=3600", "Accept-Ranges", "bytes")
	p := Pack(h)
	for _, name := range []string{"Accept-Ranges", "Age"} {
		b.Run("packed/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Get(name)
			}
		})
		b.Run("header/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.Get(name)
			}
		})
	}
}

// Every name of the table has one code in each spelling, and codes fit below 128.
func TestPackedNames_oneCodePerName(t *testing.T) {
	if len(packedNames) > 128 {
		t.Fatalf("%d names; codes 128 and above are the lower-case spellings", len(packedNames))
	}
	seen := map[string]int{}
	for i, n := range packedNames[1:] {
		l := strings.ToLower(n)
		if j, dup := seen[l]; dup {
			t.Errorf("%q and %q are one name in lower case", packedNames[j+1], n)
		}
		seen[l] = i
		if c := packedCodes[n]; packedName(c) != n {
			t.Errorf("%q: code %d names %q", n, c, packedName(c))
		}
		if c := packedCodes[l]; packedName(c) != l {
			t.Errorf("%q: code %d names %q", l, c, packedName(c))
		}
	}
}

// A name is found in any case, whether the header spells it as the table does, in lower case
// (both coded), or otherwise (text), and whether it is asked for in a coded spelling or not.
func TestPackedHeader_getMatchesNamesInAnyCase(t *testing.T) {
	for _, stored := range []string{"Content-Type", "content-type", "CONTENT-TYPE", "Content-type"} {
		p := Pack(hdr("Server", "s", stored, "text/css", "X-Own", "o"))
		for _, asked := range []string{"Content-Type", "content-type", "CONTENT-TYPE", "content-TYPE"} {
			if got := p.Get(asked); got != "text/css" {
				t.Errorf("stored %q, Get(%q) = %q", stored, asked, got)
			}
		}
		if got := p.Field(1).Name; got != stored {
			t.Errorf("stored %q, name given back as %q", stored, got)
		}
		if p.Has("Content-Length") || p.Has("content-typ") || p.Get("x-own") != "o" {
			t.Errorf("stored %q: another name matched, or x-own did not", stored)
		}
	}
}

// A header of 64 Ki fields or more has four-byte numbers even when its text is short.
func TestPackedHeader_manyFields(t *testing.T) {
	h := make(Header, 70_000)
	for i := range h {
		h[i] = Field{Name: "X-N", Value: "v"}
	}
	h[len(h)-1] = Field{Name: "ETag", Value: `"last"`}
	p := Pack(h)
	if p.Len() != len(h) || p.Field(len(h)-2) != h[len(h)-2] || p.Field(len(h)-1) != h[len(h)-1] || p.Get("etag") != `"last"` {
		t.Fatalf("Len %d, last fields %q %q", p.Len(), p.Field(len(h)-2), p.Field(len(h)-1))
	}
}

// Pack allocates once: the string it returns is the buffer it filled, not a copy of it.
func TestPack_oneAllocation(t *testing.T) {
	h := hdr("Server", "nginx/1.22.1", "Date", at(0), "X-Own", "o", "ETag", `"a"`)
	if n := testing.AllocsPerRun(100, func() { Pack(h) }); n != 1 {
		t.Errorf("Pack allocates %v times, want 1", n)
	}
}
