package policy

import (
	"testing"
	"time"
)

// Run: go test -run '^$' -bench . -benchmem ./edge/policy/
func BenchmarkFieldEdits_Apply5(b *testing.B) {
	r, _ := Compile(Config{Response: FieldRules{
		Set: map[string]string{"Strict-Transport-Security": "max-age=31536000", "X-Content-Type-Options": "nosniff",
			"X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "strict-origin-when-cross-origin"},
		Remove: []string{"X-Powered-By"},
	}})
	v := &Vars{Node: "edge-1"}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = r.Response.Apply(nopFields{}, v, buf)
	}
}

func BenchmarkKeyRules_Query(b *testing.B) {
	r, _ := Compile(Config{Key: Key{IgnoreParams: []string{"utm_*", "gclid", "fbclid"}}})
	for _, c := range []struct{ name, q string }{{"kept", "id=7&page=2&sort=asc"}, {"dropped", "id=7&utm_source=mail&utm_medium=x&gclid=y"}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_ = r.Key.Query(c.q)
			}
		})
	}
}

func BenchmarkLifetime_Freshness(b *testing.B) {
	r, _ := Compile(Config{TTL: TTL{Status: map[int]time.Duration{200: time.Hour, 404: time.Minute}, Max: 24 * time.Hour}})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, _, _ = r.TTL.Freshness(200, 0, false)
	}
}
