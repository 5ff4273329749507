package loadtest

import (
	"io"
	"net/http"
	"testing"
	"time"
)

func BenchmarkResultEncoder_Encode(b *testing.B) {
	enc := NewResultEncoder(io.Discard)
	r := Result{Attack: "bench", Code: 200, Timestamp: t0, Latency: 1234567, BytesIn: 1024, Method: "GET",
		URL: "http://127.0.0.1:8080/obj/42", Headers: http.Header{"Cache-Status": {"shoal; hit; ttl=52"}, "Age": {"3"}}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Seq = uint64(i)
		_ = enc.Encode(&r)
	}
}

func BenchmarkAggregator_Add(b *testing.B) {
	agg := NewAggregator(AggregatorOptions{})
	r := Result{Code: 200, Timestamp: t0, BytesIn: 1024}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Latency = time.Duration(i%5000) * time.Microsecond
		agg.Add(&r)
	}
}

func BenchmarkZipfTargets(b *testing.B) {
	z, _ := NewZipf(100000, 0.9)
	targets := ZipfTargets(KeySpace{Bases: []string{"http://127.0.0.1:8080"}}, z, 1)
	b.ReportAllocs()
	for i := uint64(0); b.Loop(); i++ {
		_ = targets(i)
	}
}
