package compress

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	brrr "github.com/molecule-man/go-brrr"
)

// DefaultLevel is the level New uses for 0: gzip 6 and zstd "better", the usual balance of
// ratio and speed. The cache compresses each object once at store time, so a higher level is
// often worth it for cached routes; see the benchmarks in the README.
const DefaultLevel = 6

// zstdWindow caps the zstd window at 8 MiB: RFC 8878 section 3.1.1.1.2 lets HTTP decoders
// refuse larger windows, and browsers do.
const zstdWindow = 8 << 20

// ErrUnsupported is returned for an Encoding the Compressor cannot produce.
var ErrUnsupported = errors.New("compress: unsupported encoding")

// Compressor compresses with one configured level. It keeps pools of encoders, since building
// a gzip or zstd encoder costs far more than compressing a small response. Safe for
// concurrent use.
//
// Levels follow gzip's 1 (fastest) to 9 (smallest); zstd maps them onto its four speeds:
// 1-2 fastest, 3-5 default, 6-8 better compression, 9 best compression; brotli uses the
// level as its quality (1..9 of its 0..11: 10 and 11 are far too slow for a response in
// flight). 0 means DefaultLevel (so gzip 6, zstd better, brotli 6); values outside 0..9 are
// clamped into 1..9.
type Compressor struct {
	gzipLevel int
	zstdLevel zstd.EncoderLevel
	// zstdWhole compresses complete bodies: EncodeAll is safe for concurrent calls and keeps
	// its own encoder states, one per concurrent caller up to GOMAXPROCS. Built on first use.
	zstdWhole  func() (*zstd.Encoder, error)
	gzipPool   sync.Pool // *gzip.Writer
	zstdStream sync.Pool // *zstd.Encoder with concurrency 1, for NewWriter
	brPool     sync.Pool // *brrr.Writer, for Compress and NewWriter
}

// New returns a Compressor for level (see Compressor for the mapping).
func New(level int) *Compressor {
	level = normalLevel(level)
	c := &Compressor{gzipLevel: level, zstdLevel: zstdLevel(level)}
	c.zstdWhole = sync.OnceValues(func() (*zstd.Encoder, error) {
		// Zero frames: an empty body still becomes a valid zstd stream, not zero bytes.
		z, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(c.zstdLevel), zstd.WithWindowSize(zstdWindow),
			zstd.WithZeroFrames(true))
		if err != nil {
			return nil, fmt.Errorf("compress: zstd encoder: %w", err)
		}
		return z, nil
	})
	return c
}

func normalLevel(level int) int {
	switch {
	case level == 0:
		return DefaultLevel
	case level < 1:
		return 1
	case level > 9:
		return 9
	}
	return level
}

func zstdLevel(level int) zstd.EncoderLevel {
	switch {
	case level <= 2:
		return zstd.SpeedFastest
	case level <= 5:
		return zstd.SpeedDefault
	case level <= 8:
		return zstd.SpeedBetterCompression
	}
	return zstd.SpeedBestCompression
}

// Level returns the gzip level in use (1..9) and the zstd speed it maps to.
func (c *Compressor) Level() (gzipLevel int, zstdSpeed string) {
	return c.gzipLevel, c.zstdLevel.String()
}

// Compress returns body coded with enc, for objects the cache stores compressed. Identity
// returns body itself. The result is a new slice; body is not changed or retained.
func (c *Compressor) Compress(enc Encoding, body []byte) ([]byte, error) {
	switch enc {
	case Identity:
		return body, nil
	case Zstd:
		z, err := c.zstdWhole()
		if err != nil {
			return nil, err
		}
		return z.EncodeAll(body, make([]byte, 0, len(body)/3+64)), nil
	case Gzip:
		var buf bytes.Buffer
		buf.Grow(len(body)/3 + 64)
		w := c.getGzip(&buf)
		_, err := w.Write(body)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		c.gzipPool.Put(w)
		if err != nil {
			return nil, fmt.Errorf("compress: gzip: %w", err)
		}
		return buf.Bytes(), nil
	case Brotli:
		var buf bytes.Buffer
		buf.Grow(len(body)/4 + 64)
		bw, err := c.getBrotli(&buf, uint(len(body)))
		if err != nil {
			return nil, err
		}
		_, err = bw.Write(body)
		if cerr := bw.Close(); err == nil {
			err = cerr
		}
		c.putBrotli(bw)
		if err != nil {
			return nil, fmt.Errorf("compress: br: %w", err)
		}
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnsupported, enc)
}

// NewWriter returns a writer that codes everything written to it with enc into w, for
// responses streamed to the client and not stored. Close flushes the coded trailer (it does
// not close w) and returns the encoder to the pool; the writer must not be used afterwards.
// For Identity it returns w itself with a no-op Close. Not safe for concurrent use.
func (c *Compressor) NewWriter(enc Encoding, w io.Writer) (io.WriteCloser, error) {
	switch enc {
	case Identity:
		return nopCloser{w}, nil
	case Gzip:
		gw := c.getGzip(w)
		return &pooledWriter{w: gw, release: func() { gw.Reset(nil); c.gzipPool.Put(gw) }}, nil
	case Zstd:
		zw, err := c.getZstdStream(w)
		if err != nil {
			return nil, err
		}
		return &pooledWriter{w: zw, release: func() { zw.Reset(nil); c.zstdStream.Put(zw) }}, nil
	case Brotli:
		bw, err := c.getBrotli(w, 0)
		if err != nil {
			return nil, err
		}
		return &pooledWriter{w: bw, release: func() { c.putBrotli(bw) }}, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnsupported, enc)
}

func (c *Compressor) getGzip(w io.Writer) *gzip.Writer {
	if gw, ok := c.gzipPool.Get().(*gzip.Writer); ok {
		gw.Reset(w)
		return gw
	}
	// The level was normalised to 1..9, which NewWriterLevel always accepts.
	gw, err := gzip.NewWriterLevel(w, c.gzipLevel)
	if err != nil {
		gw = gzip.NewWriter(w)
	}
	return gw
}

func (c *Compressor) getZstdStream(w io.Writer) (*zstd.Encoder, error) {
	if zw, ok := c.zstdStream.Get().(*zstd.Encoder); ok {
		zw.Reset(w)
		return zw, nil
	}
	// Concurrency 1 keeps a streaming encoder synchronous: no goroutines that outlive a
	// response or pin memory while the encoder sits in the pool.
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(c.zstdLevel), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(zstdWindow))
	if err != nil {
		return nil, fmt.Errorf("compress: zstd encoder: %w", err)
	}
	return zw, nil
}

// getBrotli returns a pooled brotli writer onto w; sizeHint is the whole input's length when
// known (0 when streaming), which lets the encoder size its tables for small bodies.
func (c *Compressor) getBrotli(w io.Writer, sizeHint uint) (*brrr.Writer, error) {
	if bw, ok := c.brPool.Get().(*brrr.Writer); ok {
		bw.ResetWithSizeHint(w, sizeHint)
		return bw, nil
	}
	bw, err := brrr.NewWriterOptions(w, c.gzipLevel, brrr.WriterOptions{SizeHint: sizeHint})
	if err != nil {
		return nil, fmt.Errorf("compress: br encoder: %w", err)
	}
	return bw, nil
}

// putBrotli drops the writer's destination before pooling it, so a pooled encoder never
// pins a response's buffer.
func (c *Compressor) putBrotli(bw *brrr.Writer) {
	bw.Reset(nil)
	c.brPool.Put(bw)
}

// pooledWriter returns its encoder to the pool on the first Close; later calls do nothing,
// so a deferred Close after an explicit one is harmless.
type pooledWriter struct {
	w       io.WriteCloser
	release func()
	closed  bool
}

func (p *pooledWriter) Write(b []byte) (int, error) {
	if p.closed {
		return 0, errClosed
	}
	return p.w.Write(b)
}

func (p *pooledWriter) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	err := p.w.Close()
	p.release()
	if err != nil {
		return fmt.Errorf("compress: close: %w", err)
	}
	return nil
}

var errClosed = errors.New("compress: write after close")

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
