package edge

import (
	"time"

	"github.com/valyala/fasthttp"
)

// HTTP/1.1 early hints and pipelining. fasthttp keeps a response in its write buffer while
// the next pipelined request is already read (it flushes only when it must wait for the
// client), and a 103 is written straight to the connection: a 103 of request N could reach
// the client before response N-1, which then reads it as N-1's (RFC 9110 section 15.2: an
// interim response belongs to the request whose final response follows it). fasthttp does
// not say whether it holds a response, and asking the kernel costs microseconds a request,
// so the node makes sure instead:
//
//   - a response not answered from the store (a miss, a pass, a forward, the node's own
//     answers) is flushed as soon as it is written (fasthttp flushes a response whose
//     handler set a write deadline): for a fetched one the round trip dwarfs a write, so
//     batching it saved nothing. Hits stay batched, which is what pipelining clients and
//     benchmarks gain from;
//   - a 103 is relayed only when no earlier response can be held back: on the
//     connection's first request, or when the response before was flushed so. Otherwise it
//     is dropped, as a proxy may drop a hint it cannot place (RFC 8297 section 2: a client
//     ignores what it does not use), and counted. nginx and HAProxy write a 103 in order
//     after the responses before it; dropping is the nearest this listener can come.

// flushUnlessStored has fasthttp flush x's response as soon as it is written unless it was
// answered from the store (so the next request may relay 103s), and records that on lc.
// Call it after handle, on the connection's goroutine.
func flushUnlessStored(ctx *fasthttp.RequestCtx, lc *liveConn, x *exchange) {
	if lc == nil || x.fromStore {
		return
	}
	// No deadline (the zero time): the feed's sweeper times the write (conntimer.go); this
	// only marks the response for an immediate flush.
	if ctx.SetWriteDeadline(time.Time{}) == nil {
		lc.flushedReq = ctx.ConnRequestNum()
	}
}

// hintsInOrder reports whether a 103 written now reaches the client right after the
// responses before ctx's request, and not ahead of one fasthttp still holds.
func hintsInOrder(ctx *fasthttp.RequestCtx, lc *liveConn) bool {
	n := ctx.ConnRequestNum()
	return lc == nil || n <= 1 || lc.flushedReq == n-1
}
