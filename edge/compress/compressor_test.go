package compress

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	brrr "github.com/molecule-man/go-brrr"
)

// decode undoes enc with the library's own decoders, as a browser would.
func decode(t testing.TB, enc Encoding, coded []byte) []byte {
	t.Helper()
	switch enc {
	case Gzip:
		r, err := gzip.NewReader(bytes.NewReader(coded))
		if err != nil {
			t.Fatalf("gzip header: %v", err)
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("gzip body: %v", err)
		}
		return out
	case Zstd:
		d, err := zstd.NewReader(nil, zstd.WithDecoderMaxWindow(zstdWindow))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		out, err := d.DecodeAll(coded, nil)
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		return out
	case Brotli:
		out, err := io.ReadAll(brrr.NewReader(bytes.NewReader(coded)))
		if err != nil {
			t.Fatalf("br: %v", err)
		}
		return out
	}
	return coded
}

// textBody is a realistic compressible page: repeated markup with varying content.
func textBody(size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `<li class="product" data-id="%d"><a href="/p/%d">Item %d</a> <span class="price">%d.%02d EUR</span></li>`+"\n",
			i, i*7919%100000, i, i%500, i%100)
	}
	return b.Bytes()[:size]
}

func TestCompressor_roundTripsEveryEncodingAndLevel(t *testing.T) {
	bodies := map[string][]byte{"empty": {}, "one byte": []byte("x"), "text 100KiB": textBody(100 << 10),
		"binary-ish": bytes.Repeat([]byte{0, 1, 2, 255, 254}, 1000)}
	for _, level := range []int{-5, 0, 1, 5, 9, 42} {
		c := New(level)
		for _, enc := range []Encoding{Gzip, Zstd, Brotli} {
			for name, body := range bodies {
				t.Run(fmt.Sprintf("level %d/%s/%s", level, enc, name), func(t *testing.T) {
					coded, err := c.Compress(enc, body)
					if err != nil {
						t.Fatal(err)
					}
					if len(coded) == 0 {
						t.Fatal("coded body is empty: not a valid stream")
					}
					if got := decode(t, enc, coded); !bytes.Equal(got, body) {
						t.Fatalf("round trip: got %d bytes, want %d", len(got), len(body))
					}
					var streamed bytes.Buffer
					w, err := c.NewWriter(enc, &streamed)
					if err != nil {
						t.Fatal(err)
					}
					// Write in uneven pieces, as a response body arrives.
					for rest := body; len(rest) > 0; {
						n := min(len(rest), 7777)
						if _, err := w.Write(rest[:n]); err != nil {
							t.Fatal(err)
						}
						rest = rest[n:]
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					if got := decode(t, enc, streamed.Bytes()); !bytes.Equal(got, body) {
						t.Fatalf("stream round trip: got %d bytes, want %d", len(got), len(body))
					}
				})
			}
		}
	}
}

func TestCompressor_compressesText(t *testing.T) {
	body := textBody(64 << 10)
	c := New(0)
	for _, enc := range []Encoding{Gzip, Zstd, Brotli} {
		coded, err := c.Compress(enc, body)
		if err != nil {
			t.Fatal(err)
		}
		if len(coded) > len(body)/3 {
			t.Errorf("%s: %d bytes from %d: not compressing", enc, len(coded), len(body))
		}
	}
}

func TestCompressor_identityAndUnknownEncodings(t *testing.T) {
	c := New(0)
	body := []byte("plain")
	if got, err := c.Compress(Identity, body); err != nil || !bytes.Equal(got, body) {
		t.Errorf("Compress(identity) = %q, %v; want the body unchanged", got, err)
	}
	var buf bytes.Buffer
	w, err := c.NewWriter(Identity, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(body); err != nil || w.Close() != nil || buf.String() != "plain" {
		t.Errorf("identity writer wrote %q, %v", buf.String(), err)
	}
	for _, enc := range []Encoding{"deflate", "compress", "BR"} {
		if _, err := c.Compress(enc, body); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Compress(%s) error = %v, want ErrUnsupported", enc, err)
		}
		if _, err := c.NewWriter(enc, &buf); !errors.Is(err, ErrUnsupported) {
			t.Errorf("NewWriter(%s) error = %v, want ErrUnsupported", enc, err)
		}
	}
}

func TestCompressor_writerCloseIsIdempotentAndFinal(t *testing.T) {
	c := New(1)
	for _, enc := range []Encoding{Gzip, Zstd, Brotli} {
		var buf bytes.Buffer
		w, err := c.NewWriter(enc, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		size := buf.Len()
		if err := w.Close(); err != nil {
			t.Errorf("%s: second Close = %v, want nil", enc, err)
		}
		if _, err := w.Write([]byte("more")); err == nil {
			t.Errorf("%s: Write after Close succeeded", enc)
		}
		if buf.Len() != size {
			t.Errorf("%s: output grew after Close", enc)
		}
		// The encoder went back to the pool: the next writer must start a fresh stream.
		var next bytes.Buffer
		w2, _ := c.NewWriter(enc, &next)
		_, _ = w2.Write([]byte("second"))
		_ = w2.Close()
		if got := decode(t, enc, next.Bytes()); string(got) != "second" {
			t.Errorf("%s: pooled writer produced %q, want %q", enc, got, "second")
		}
	}
}

func TestCompressor_levelMapping(t *testing.T) {
	tests := []struct {
		level    int
		wantGzip int
		wantZstd string
	}{
		{0, 6, "better"}, {1, 1, "fastest"}, {3, 3, "default"}, {6, 6, "better"}, {9, 9, "best"},
		{-1, 1, "fastest"}, {12, 9, "best"},
	}
	for _, tt := range tests {
		g, z := New(tt.level).Level()
		if g != tt.wantGzip || z != tt.wantZstd {
			t.Errorf("New(%d).Level() = %d, %q; want %d, %q", tt.level, g, z, tt.wantGzip, tt.wantZstd)
		}
	}
}

// TestCompressor_concurrentUse shares one Compressor across goroutines mixing whole-object
// and streaming compression; run under -race it checks the pools hand no encoder out twice.
func TestCompressor_concurrentUse(t *testing.T) {
	c := New(3)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				body := []byte(strings.Repeat(fmt.Sprintf("goroutine %d item %d; ", g, i), 50+i))
				enc := []Encoding{Gzip, Zstd, Brotli}[(g+i)%3]
				var coded []byte
				if i%3 == 0 {
					var buf bytes.Buffer
					w, err := c.NewWriter(enc, &buf)
					if err != nil {
						errs <- err
						return
					}
					_, _ = w.Write(body)
					_ = w.Close()
					coded = buf.Bytes()
				} else {
					var err error
					if coded, err = c.Compress(enc, body); err != nil {
						errs <- err
						return
					}
				}
				if got := decode(t, enc, coded); !bytes.Equal(got, body) {
					errs <- fmt.Errorf("goroutine %d item %d %s: round trip mismatch", g, i, enc)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
