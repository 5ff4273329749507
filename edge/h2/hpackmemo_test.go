package h2

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"golang.org/x/net/http2/hpack"
)

// TestHpackMemo_sameBytesAsEncoder: header blocks written through the memo are byte for byte
// the blocks a plain hpack.Encoder writes for the same fields, while the dynamic table takes
// insertions (values that change, as Date and Age do), evictions (a small table) and size
// changes from the peer's SETTINGS_HEADER_TABLE_SIZE (RFC 7541 sections 4.2-4.4), and a
// decoder reads every block back as the fields sent. A memo that replayed an index after the
// table moved would name another entry: the bytes would differ from the encoder's.
func TestHpackMemo_sameBytesAsEncoder(t *testing.T) {
	stable := []Field{
		{Name: "content-type", Value: "text/html"},
		{Name: "cache-control", Value: "max-age=3600"},
		{Name: "etag", Value: `"v1"`},
		{Name: "via", Value: "2 shoal"},
		{Name: "content-length", Value: "1024"},
		{Name: "x-big", Value: string(bytes.Repeat([]byte("b"), 1500))},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tableSize := range []uint32{4096, 256, 0} {
		t.Run(fmt.Sprint(tableSize), func(t *testing.T) {
			var got, want bytes.Buffer
			enc, ref := hpack.NewEncoder(&got), hpack.NewEncoder(&want)
			m := hpackMemo{epoch: 1}
			dec := hpack.NewDecoder(4096, nil)
			age := "0"
			for block := range 400 {
				switch {
				case block == 50:
					enc.SetMaxDynamicTableSizeLimit(tableSize)
					ref.SetMaxDynamicTableSizeLimit(tableSize)
					m.tableSizeChanged()
				case block%7 == 0:
					age = strconv.Itoa(block) // a new string: inserted again
				}
				fields := append([]Field{{Name: ":status", Value: statusText[200+block%2*4]}}, stable...)
				fields = append(fields, Field{Name: "age", Value: age})
				rng.Shuffle(len(fields)-1, func(i, j int) { fields[i+1], fields[j+1] = fields[j+1], fields[i+1] })
				got.Reset()
				want.Reset()
				for _, f := range fields {
					m.writeField(enc, &got, f.Name, f.Value)
					ref.WriteField(hpack.HeaderField{Name: f.Name, Value: f.Value})
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("block %d: memo wrote %x, the encoder %x", block, got.Bytes(), want.Bytes())
				}
				decoded, err := dec.DecodeFull(got.Bytes())
				if err != nil {
					t.Fatalf("block %d: %v", block, err)
				}
				for i, f := range decoded {
					if f.Name != fields[i].Name || f.Value != fields[i].Value {
						t.Fatalf("block %d field %d: decoded %s: %.20s, sent %s: %.20s", block, i, f.Name, f.Value, fields[i].Name, fields[i].Value)
					}
				}
			}
		})
	}
}

// BenchmarkHpackMemo_hitBlock: the header block of a cache hit (13 fields, the same strings
// each time), through the memo and through the encoder alone.
func BenchmarkHpackMemo_hitBlock(b *testing.B) {
	fields := append([]Field{{Name: ":status", Value: "200"}}, benchHitFields...)
	b.Run("memo", func(b *testing.B) {
		var buf bytes.Buffer
		enc := hpack.NewEncoder(&buf)
		m := hpackMemo{epoch: 1}
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			for _, f := range fields {
				m.writeField(enc, &buf, f.Name, f.Value)
			}
		}
	})
	b.Run("encoder", func(b *testing.B) {
		var buf bytes.Buffer
		enc := hpack.NewEncoder(&buf)
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			for _, f := range fields {
				enc.WriteField(hpack.HeaderField{Name: f.Name, Value: f.Value})
			}
		}
	})
}

// benchHitFields are the fields Shoal sends on a 1 KiB hit.
var benchHitFields = []Field{
	{Name: "server", Value: "shoal"},
	{Name: "date", Value: "Mon, 30 Nov 2026 21:40:00 GMT"},
	{Name: "content-type", Value: "application/octet-stream"},
	{Name: "last-modified", Value: "Mon, 30 Nov 2026 20:00:00 GMT"},
	{Name: "etag", Value: `"6750a1b2-400"`},
	{Name: "expires", Value: "Mon, 30 Nov 2026 22:40:00 GMT"},
	{Name: "cache-control", Value: "max-age=3600"},
	{Name: "accept-ranges", Value: "bytes"},
	{Name: "age", Value: "12"},
	{Name: "via", Value: "2 bench"},
	{Name: "cache-status", Value: "shoal; hit; ttl=3588; detail=bench"},
	{Name: "content-length", Value: "1024"},
}
