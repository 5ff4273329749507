package ring

// Broadcast gossips msg to every other member, best effort: it rides on gossip packets and
// is retransmitted a few times (4 × log10(N+1)), so it usually arrives within a few hundred
// milliseconds, but a member may miss it and nothing reports that. A node does not receive
// its own broadcasts. Messages over MaxBroadcastSize are dropped, logged and counted; on a
// node running alone Broadcast does nothing.
func (r *Ring) Broadcast(msg []byte) {
	if len(msg) == 0 {
		return
	}
	if len(msg) > MaxBroadcastSize {
		r.metrics.broadcastDropped.Inc()
		r.log.Warn("ring: broadcast too large; dropped", "bytes", len(msg), "max", MaxBroadcastSize)
		return
	}
	if r.ml.Load() == nil {
		return
	}
	r.queue.QueueBroadcast(broadcast(append([]byte{kindBroadcast}, msg...)))
	r.metrics.broadcasts.Inc()
}
