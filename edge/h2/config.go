package h2

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config holds the server's limits. The zero value works: each zero field takes the default
// its comment names.
type Config struct {
	// MaxConcurrentStreams is SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2). Streams
	// beyond it are refused with RST_STREAM REFUSED_STREAM. Zero means 100.
	MaxConcurrentStreams uint32
	// InitialWindowSize is SETTINGS_INITIAL_WINDOW_SIZE in bytes: how much request content
	// one stream may have in flight before its handler reads. Zero means 256 KiB; values
	// below 65535 (the protocol default a client may use before it sees ours) are raised.
	InitialWindowSize uint32
	// ConnWindowSize is the connection's receive window in bytes (RFC 9113 §6.9.2), the bound
	// on request content buffered per connection. Zero means 1 MiB; at least 65535.
	ConnWindowSize uint32
	// MaxFrameSize is SETTINGS_MAX_FRAME_SIZE, the largest frame payload accepted, in bytes
	// (16384 to 16777215). Zero means 16384.
	MaxFrameSize uint32
	// MaxHeaderListSize is SETTINGS_MAX_HEADER_LIST_SIZE in bytes as RFC 9113 §6.5.2 counts
	// them (name + value + 32 per field). A larger request gets 431, or 414 when it passed the
	// limit at a :path whose HTTP/1.1 request line is over it too; a header block whose
	// encoded size exceeds it ends the connection. Zero means 32 KiB.
	MaxHeaderListSize uint32
	// MaxHeaderFields bounds the regular fields of a request header block (the crumbs of a
	// split cookie, RFC 9113 §8.2.3, count once), as HAProxy's tune.http.maxhdr bounds an
	// HTTP/1.1 head's: more get 431. MaxHeaderListSize alone admits a thousand empty fields.
	// Zero means 101 (HAProxy's default); negative means no bound.
	MaxHeaderFields int
	// MaxBodyBytes bounds request content per stream: a larger content-length gets 413 at
	// once, content that grows past it gets 413 (or RST_STREAM CANCEL once the response has
	// started). Zero means 16 MiB (limits.max_body_bytes' default); negative means no bound.
	MaxBodyBytes int64

	// MaxResets bounds RST_STREAM frames from the client plus the resets its frames made this
	// server send (streams over MaxConcurrentStreams, malformed requests, frames on closed
	// streams, broken windows or content-lengths), per LimitWindow, against rapid reset
	// (CVE-2023-44487) and reset floods (CVE-2019-9514). Zero means 200.
	MaxResets int
	// MaxControlFrames bounds SETTINGS, PING, PRIORITY, unknown frames, empty DATA frames
	// without END_STREAM and WINDOW_UPDATEs beyond those the DATA frames sent and the
	// streams accepted earn (windowupdates.go) per LimitWindow, against floods that cost the
	// server work or queued replies (CVE-2019-9512, -9515, -9518). Zero means 1000.
	MaxControlFrames int
	// LimitWindow is the interval the two counters above are taken over. Zero means 10s.
	LimitWindow time.Duration

	// IdleTimeout closes the connection (GOAWAY NO_ERROR) when nothing was read or written
	// for this long and no stream is in progress; it also bounds the wait for the preface
	// and a detached handler's wait for request content (ErrBodyTimeout). Zero means 2m.
	IdleTimeout time.Duration
	// HeaderTimeout bounds the time from a HEADERS frame to the end of its header block
	// (END_HEADERS): a client that trickles CONTINUATION frames, each within IdleTimeout,
	// would otherwise hold the connection's decoder for minutes (HTTP/1.1's slowloris,
	// in frames). Past it the connection ends with GOAWAY ENHANCE_YOUR_CALM: a block cut
	// short leaves the HPACK state unknown, so the stream alone cannot be reset. Zero
	// means 10s.
	HeaderTimeout time.Duration
	// BodyTimeout bounds each wait for a request's content: the time from its HEADERS, its
	// last DATA with content or the last WINDOW_UPDATE sent for it (whichever came last) to
	// its next content, as nginx's client_body_timeout bounds the time between two reads.
	// It is not a bound on the whole upload: a large upload on a slow link that keeps
	// coming is never cut (before, it bounded HEADERS to END_STREAM, so an upload near
	// MaxBodyBytes needed MaxBodyBytes/BodyTimeout per second). DATA that carries only
	// padding is no progress. Past it Body.Read fails with ErrBodyTimeout and the stream
	// is reset (CANCEL), also when content arrives late while no read waits for it. Zero
	// means no bound but IdleTimeout's between frames.
	BodyTimeout time.Duration
	// StallTimeout resets a stream (RST_STREAM CANCEL) whose queued data could not be sent
	// for this long because the peer's stream window stayed shut, and closes the connection
	// (GOAWAY ENHANCE_YOUR_CALM) when the connection window did. Zero means 30s.
	StallTimeout time.Duration
	// WriteTimeout bounds each write to the socket. Zero means 30s.
	WriteTimeout time.Duration

	// Refused makes the answer to a request refused before any handler sees it (413 for a
	// content-length over MaxBodyBytes, 414 and 431 over MaxHeaderListSize, 431 over
	// MaxHeaderFields): its fields
	// (content-length included, for the content) and its content, a short error page, so an
	// HTTP/2 client gets what the server's HTTP/1.1 listener answers the same request. It is
	// called on the connection's goroutine with the connection's lock held: it must not
	// block, and must return fields and content it does not change later. Nil means a bare
	// status.
	Refused func(status int) (fields []Field, content []byte)
	// Rejected is told of each request stream no handler sees: one reset as malformed (RFC
	// 9113 section 8.1.1, RST_STREAM PROTOCOL_ERROR: Status 0) or answered from its head
	// (413, 414, 431), with what of its request was decoded, so that it can be logged as
	// the HTTP/1.1 listener logs the requests it refuses. It is called on the connection's
	// goroutine, without the connection's lock, once the reset or answer is queued; it must
	// not block. Nil means none.
	Rejected func(RejectedRequest)

	// Logger receives connection errors and limit hits. Nil means none.
	Logger *slog.Logger
	// Registerer receives the shoal_h2_* metrics. Nil means they are kept but not registered.
	Registerer prometheus.Registerer
}

// RejectedRequest is a request stream no handler saw (Config.Rejected).
type RejectedRequest struct {
	RemoteAddr              net.Addr
	Method, Authority, Path string // as decoded; "" when absent or past MaxHeaderListSize
	UserAgent, Referer      string // the same, for the access record
	Status                  int    // the answer's status; 0 for a stream reset as malformed
}

// maxContinuations bounds CONTINUATION frames per header block: real clients send the
// block in a frame or two, a flood sends thousands of tiny or empty ones.
const maxContinuations = 32

func (c Config) withDefaults() (Config, error) {
	def32 := func(v *uint32, d uint32) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def32(&c.MaxConcurrentStreams, 100)
	def32(&c.InitialWindowSize, 256<<10)
	def32(&c.ConnWindowSize, 1<<20)
	def32(&c.MaxFrameSize, 16384)
	def32(&c.MaxHeaderListSize, 32<<10)
	if c.MaxHeaderFields == 0 {
		c.MaxHeaderFields = 101
	}
	c.InitialWindowSize = max(c.InitialWindowSize, 65535)
	c.ConnWindowSize = max(c.ConnWindowSize, 65535)
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 16 << 20
	}
	if c.MaxResets == 0 {
		c.MaxResets = 200
	}
	if c.MaxControlFrames == 0 {
		c.MaxControlFrames = 1000
	}
	defDur(&c.LimitWindow, 10*time.Second)
	defDur(&c.IdleTimeout, 2*time.Minute)
	defDur(&c.HeaderTimeout, 10*time.Second)
	defDur(&c.StallTimeout, 30*time.Second)
	defDur(&c.WriteTimeout, 30*time.Second)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.MaxFrameSize < 16384 || c.MaxFrameSize > 1<<24-1:
		return c, fmt.Errorf("h2: MaxFrameSize %d outside 16384..16777215 (RFC 9113 §6.5.2)", c.MaxFrameSize)
	case c.InitialWindowSize > 1<<31-1:
		return c, fmt.Errorf("h2: InitialWindowSize %d above 2^31-1", c.InitialWindowSize)
	case c.ConnWindowSize > 1<<31-1:
		return c, fmt.Errorf("h2: ConnWindowSize %d above 2^31-1", c.ConnWindowSize)
	case c.MaxResets < 0 || c.MaxControlFrames < 0:
		return c, fmt.Errorf("h2: MaxResets and MaxControlFrames must not be negative")
	}
	return c, nil
}
