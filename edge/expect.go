package edge

import (
	"bytes"
	"net/http"

	"github.com/shoal-cdn/shoal/edge/h2"
	"github.com/valyala/fasthttp"
)

// expectStage is where a request with Expect: 100-continue stands (exchange.expect).
type expectStage uint8

const (
	expectNone expectStage = iota
	// expectAsking: expectContinue runs the pipeline on the head alone, to learn whether it
	// would answer before reading the content. handle stops where it would start to read
	// it (a pass, a fill, a purge) and sets expectAdmitted.
	expectAsking
	// expectAdmitted: handle stopped there; nothing was answered or recorded.
	expectAdmitted
	// expectCounted: the request expectContinue admitted, run again once its 100 went out
	// and its content is coming. Its rate limit was counted by the question: not again.
	expectCounted
)

// expectAdmittedKey marks, in fasthttp's per-request user values, a request expectContinue
// admitted (cleared by fasthttp after each request; only such requests store it).
var expectAdmittedKey any = "shoal-expect-admitted"

// expectStageOf is expectCounted for the request expectContinue admitted on ctx, the only
// kind of request whose user values are not empty when the handler starts.
func expectStageOf(ctx *fasthttp.RequestCtx) expectStage {
	if ctx.UserValue(expectAdmittedKey) != nil {
		return expectCounted
	}
	return expectNone
}

// expectContinue is the HTTP/1.1 listener's ExpectHandler: it sends 100 (Continue) only to
// a request whose content is going to be read. RFC 9110 section 10.1.1: a server that
// answers with a final status without reading the content should not send 100 first, or the
// client sends a body for nothing. fasthttp writes the 100 as soon as this returns 100,
// before the handler runs, so the answer is decided here:
//
//   - A Content-Length over limits.max_body_bytes, or over the max_body_bytes of the route
//     it matches, is answered 413 (protocolError: the node's 413 with the route's error page
//     and fields, counted), as nginx does. This comes first, without the pipeline: most
//     uploads are under every route's limit and are not routed for it (routeRefusesLength).
//   - Then the pipeline runs on the head alone (expectAsking). Whatever it answers before it
//     would read the content (400 for a bad target or framing, 405, 404 for no route, 403
//     from an access rule, a redirect, 429 from a rate limit, 503 in maintenance or for a
//     pass to a pool without a healthy server, OPTIONS' 200) is the answer, written here.
//     A request it would pass, fill or purge is admitted: 100 goes out, and the handler
//     runs it again once its content comes (its rate limit counted once).
//
// fasthttp calls no handler after a refused expectation: it sends what was written here and
// closes the connection, since the client may have started to send the content anyway; the
// unread bytes are never read as a request. Content of unknown length (chunked) is decided
// the same way, by everything but its length.
//
// fasthttp calls this only for an HTTP/1.1 request with Expect: 100-continue (an HTTP/1.0
// client's expectation is ignored, RFC 9110 section 10.1.1), so a request without one pays
// nothing. HTTP/2 has its own (h2ExpectContinue).
func (n *Node) expectContinue(limit int64) func(*fasthttp.RequestCtx) int {
	return func(ctx *fasthttp.RequestCtx) int {
		cl := int64(requestContentLength(&ctx.Request.Header))
		if cl > limit || (cl > 0 && n.routeRefusesLength(ctx, cl)) {
			n.protocolError(ctx, fasthttp.ErrBodyTooLarge)
			return fasthttp.StatusRequestEntityTooLarge
		}
		e := n.getHTTP1(ctx)
		e.x.expect = expectAsking
		n.handle(&e.x)
		admitted := e.x.expect == expectAdmitted
		n.releaseHTTP1(e) // as handleHTTP1: an answer's streamed body may still refer to e
		if admitted {
			ctx.SetUserValue(expectAdmittedKey, true)
			return fasthttp.StatusContinue
		}
		n.liveOf(ctx.Conn()).enter(phaseWrite) // fasthttp writes the answer next
		return ctx.Response.StatusCode()
	}
}

// routeRefusesLength reports a request whose route's max_body_bytes is below cl, the
// Content-Length it announced: the 413 requestPolicy would answer once the body was read.
// The target is parsed as handle parses it (a target handle refuses has no route, and its
// refusal is not a 413). It allocates nothing: the exchange and the scratch are pooled.
func (n *Node) routeRefusesLength(ctx *fasthttp.RequestCtx, cl int64) bool {
	rt := n.rt.Load()
	if rt == nil || !anyRouteLimitBelow(rt, cl) {
		return false
	}
	e := n.getHTTP1(ctx)
	defer putHTTP1(e)
	x := &e.x
	if x.problem != "" {
		return false // handle refuses it 400 or 505 before any route
	}
	sc := getScratch()
	defer putScratch(sc)
	hdr := x.req
	t, bad := parseTargetIn(sc, x.scheme(), hdr.RequestURI(), x.host, x.hosts, hdr.Protocol())
	if bad != nil {
		return false
	}
	rules := rt.rulesFor(rt.match(hdr.Method(), t.name, t.path))
	return rules != nil && rules.MaxBodyBytes > 0 && cl > rules.MaxBodyBytes
}

// anyRouteLimitBelow reports whether some route's max_body_bytes is below cl, so that a
// request under every route's limit (most uploads) is not routed twice.
func anyRouteLimitBelow(rt *settings, cl int64) bool {
	for _, r := range rt.rules {
		if r != nil && r.MaxBodyBytes > 0 && r.MaxBodyBytes < cl {
			return true
		}
	}
	return false
}

// h2ExpectContinue is expectContinue for an HTTP/2 stream whose content has not ended, run
// on its detached goroutine before any content is read (h2Body): a request with expect:
// 100-continue is answered from its head alone when the pipeline would answer it before
// reading the content (h2Respond, and e released: false), else it gets an interim 100 and
// its content is read, the pipeline run again on the request as received, its rate limit
// counted once. Before, h2Body waited for the content before anything was decided, while
// the client waited for a 100 or a final status (RFC 9110 section 10.1.1 asks one of them
// at once): a refusal came only after the client gave up waiting and sent its content.
func (n *Node) h2ExpectContinue(e *h2exchange, w h2.ResponseWriter, r *h2.Request) bool {
	if r.Body.Drained() || !bytes.EqualFold(e.req.Peek("expect"), []byte("100-continue")) {
		return true
	}
	e.x.expect = expectAsking
	n.handle(&e.x)
	if e.x.expect != expectAdmitted {
		n.h2Respond(e, w, r, false)
		return false
	}
	// The question may have shaped the request's view (its target, dropped fields).
	e.x.reset()
	n.h2Request(e, w, r)
	e.x.expect = expectCounted
	_ = w.WriteInterim(http.StatusContinue, nil) // a stream already gone fails its content's read
	return true
}
