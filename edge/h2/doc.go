// Package h2 is Shoal's data-plane HTTP/2 server (RFC 9113): a connection loop of its own
// over golang.org/x/net/http2's Framer and hpack, built so that a cache hit is answered on
// the connection's goroutine with no goroutine, channel or copy per stream.
//
// What it promises:
//   - A Handler is called on the connection's goroutine, in stream order. It may answer at
//     once (ResponseWriter.Respond: the hit path) or Detach and finish the stream from another
//     goroutine (a miss or a pass: interim 1xx, header, body chunks as they arrive, Abort).
//   - Flow control holds both ways (RFC 9113 §5.2, §6.9): response DATA never exceeds the
//     peer's stream and connection windows; request bodies are buffered only up to the windows
//     this server advertised, which are refunded as the handler reads.
//   - Memory per connection is bounded: at most Config.MaxConcurrentStreams streams (streams
//     whose detached handler has not finished still count, so a reset does not free a slot a
//     handler holds), request body buffers bounded by Config.ConnWindowSize, one header block
//     decoded to at most Config.MaxHeaderListSize bytes from a bounded number of frames.
//   - Abuse ends the connection with GOAWAY ENHANCE_YOUR_CALM: rapid reset (CVE-2023-44487),
//     CONTINUATION floods (CVE-2024-27316's kind), SETTINGS/PING/PRIORITY/empty-frame and
//     WINDOW_UPDATE floods (CVE-2019-9512, -9515, -9518). A stream that cannot send because the peer's window stays
//     shut for Config.StallTimeout is reset and its queued data freed.
//   - Shutdown sends GOAWAY with the last stream it accepted; those streams finish, then the
//     connection closes.
//
// The package imports nothing of Shoal's: the cache pipeline adapts to Handler.
package h2
