package httpcache

import (
	"reflect"
	"strings"
	"testing"
)

func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{"max-age=60", `no-cache="a, b", private`, `x="\"", max-stale`, "max-age =1", `a="`, "s-maxage=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := ParseCacheControl([]string{s})
		if d.MaxAge < 0 || d.SMaxAge < 0 || d.MaxStale < 0 || d.MinFresh < 0 {
			t.Fatalf("negative duration from %q: %+v", s, d)
		}
		// Parsing the same line twice must not change first-wins values.
		twice := ParseCacheControl([]string{s, s})
		if twice.MaxAge != d.MaxAge || twice.NoStore != d.NoStore || twice.Private != d.Private {
			t.Fatalf("second copy changed the result for %q", s)
		}
		parseTargeted([]string{s}) // must not panic; validity is checked by the table tests
		parseSurrogateControl([]string{s})
	})
}

func FuzzSecondaryKey(f *testing.F) {
	f.Add("Accept-Encoding, Accept-Language", "gzip, br", "en-US,de;q=0.5")
	f.Add("*", "", "")
	f.Add("a,,b", "x\ny", `"q,"`)
	f.Fuzz(func(t *testing.T, vary, v1, v2 string) {
		names := VaryNames(hdr("Vary", vary))
		if !reflect.DeepEqual(VaryNames(hdr("Vary", strings.Join(names, ", "))), names) {
			t.Fatalf("VaryNames not idempotent for %q", vary)
		}
		req := hdr("Accept-Encoding", v1, "Accept-Language", v2, "X", v1)
		k1, ok1 := SecondaryKey(names, req)
		k2, ok2 := SecondaryKey(names, req.Clone())
		if k1 != k2 || ok1 != ok2 {
			t.Fatal("SecondaryKey not deterministic")
		}
		// A bucket shares only codings its client accepts (RFC 9110 12.5.3), its own first.
		bucket := NormalizeAcceptEncoding(v1)
		own, _, _ := strings.Cut(bucket, "-")
		if bucket != "" && (!BucketAccepts(bucket, own) || !acceptable(v1, own)) {
			t.Fatalf("bucket %q of %q refuses its own coding", bucket, v1)
		}
		for _, c := range encodingBuckets {
			if BucketAccepts(bucket, c) && !acceptable(v1, c) {
				t.Fatalf("bucket %q of %q accepts %s, which the client refuses", bucket, v1, c)
			}
		}
	})
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=-5", "bytes=5-", "bytes=0-1,1-2,5-9", "bytes=-0", "x=1-2"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, s string, size int64) {
		rs, err := ParseRange(s, size)
		if err != nil {
			if rs != nil {
				t.Fatal("ranges returned with an error")
			}
			return
		}
		for i, r := range rs {
			if r.Start < 0 || r.End < r.Start || r.End >= size {
				t.Fatalf("range %v out of [0,%d) for %q", r, size, s)
			}
			for _, o := range rs[:i] {
				if r.Start <= o.End && o.Start <= r.End {
					t.Fatalf("overlapping ranges %v %v for %q", o, r, s)
				}
			}
		}
		if size >= 0 && size < 1<<16 {
			body := make([]byte, size)
			MultipartByteranges(rs, body, "text/plain", "b")
		}
	})
}

// acceptable is RFC 9110 12.5.3's reading of Accept-Encoding v for coding: its highest
// weight when named (x-gzip for gzip), else "*"'s, above zero.
func acceptable(v, coding string) bool {
	named, star := -1, -1
	for len(v) > 0 {
		var elem string
		elem, v = nextListElement(v)
		c, w, ok := ParseCodingWeight(elem)
		switch {
		case !ok:
		case c == "*":
			star = max(star, w)
		case equalFold(c, coding), coding == "gzip" && equalFold(c, "x-gzip"):
			named = max(named, w)
		}
	}
	if named < 0 {
		named = star
	}
	return named > 0
}
