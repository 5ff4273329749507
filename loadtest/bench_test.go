package loadtest

import (
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The targeters run once per request on vegeta's workers, beside the client.

func BenchmarkZipfTargeter(b *testing.B) {
	z, _ := NewZipf(100000, 0.9)
	tr := ZipfTargeter(KeySpace{Bases: []string{"http://127.0.0.1:8080", "http://127.0.0.2:8080"}}, z, 1)
	var t vegeta.Target
	b.ReportAllocs()
	for b.Loop() {
		_ = tr(&t)
	}
}

func BenchmarkPurgeTargeter(b *testing.B) {
	z, _ := NewZipf(100000, 0.9)
	ks := KeySpace{Bases: []string{"http://www.example.com"}}
	tr := PurgeTargeter("http://127.0.0.1:9090", "token", MixedPurges(ks.URL, z, 1))
	var t vegeta.Target
	b.ReportAllocs()
	for b.Loop() {
		_ = tr(&t)
	}
}
