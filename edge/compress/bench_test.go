package compress

import (
	"fmt"
	"io"
	"testing"
)

// BenchmarkCompress measures CPU per byte of a realistic 256 KiB HTML body compressed whole,
// as the cache does at store time. MB/s is input bytes; ratio is coded/input.
func BenchmarkCompress(b *testing.B) {
	body := textBody(256 << 10)
	for _, enc := range []Encoding{Gzip, Zstd, Brotli} {
		for _, level := range []int{1, 6} {
			b.Run(fmt.Sprintf("%s/level=%d", enc, level), func(b *testing.B) {
				c := New(level)
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				var coded []byte
				for b.Loop() {
					var err error
					if coded, err = c.Compress(enc, body); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(coded))/float64(len(body)), "ratio")
			})
		}
	}
}

// BenchmarkNewWriter is the streaming path for uncached responses, with pooled encoders.
func BenchmarkNewWriter(b *testing.B) {
	body := textBody(64 << 10)
	for _, enc := range []Encoding{Gzip, Zstd, Brotli} {
		b.Run(string(enc), func(b *testing.B) {
			c := New(1)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				w, err := c.NewWriter(enc, io.Discard)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = w.Write(body)
				_ = w.Close()
			}
		})
	}
}

func BenchmarkNegotiate(b *testing.B) {
	offered := []Encoding{Zstd, Gzip}
	b.ReportAllocs()
	for b.Loop() {
		Negotiate("gzip, deflate, br, zstd", offered)
	}
}
