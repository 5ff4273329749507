package edge

// adoptFromFill answers an owner's adoption probe (only-if-cached, Shoal-Adopt) for a key
// this node is fetching from the origin right now: the probe joins that fill and gets the
// object as it arrives, within the fill's own bound (cache.fill_timeout). That is a node
// rejoining while its runner-up fills one of its keys: answered 504 ("nothing stored"), the
// owner fetched the object from the origin a second time. It reports false, having
// answered nothing, when no fill is in flight or the fill's answer is not one the owner
// may adopt (not stored here, another variant, failed): the owner then fills itself. A
// probe never starts a fetch.
func (p *pipeline) adoptFromFill(x *exchange, l *lookup) (string, bool) {
	if !x.adoption {
		return "", false
	}
	call, reader, ok := p.fills.JoinInFlight(l.key)
	if !ok {
		return "", false
	}
	if !call.HeadDone() {
		p.processing(x) // the adopting owner waits for our origin's head through us
	}
	h, err := call.Head()
	if err != nil || !h.shareable || len(h.vary) > 0 {
		reader.Close()
		return "", false
	}
	p.metrics.misses.Inc() // counted as a fill's follower is (fillAttempt)
	p.metrics.coalesced.Inc()
	l.status.collapse(true)
	l.status.filled(h.originCode, h.shareable)
	p.serveFill(x, l, h, reader, int64(l.rt.cfg.Cache.MaxObjectSize))
	return "miss", true
}
