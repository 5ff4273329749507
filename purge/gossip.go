package purge

import "encoding/json"

// EncodeForGossip encodes a purge this node accepted (with its ID and Time, as Options.Broadcast
// receives it or LogSince returns it) for a memberlist broadcast. Requests without an ID are
// refused by HandleGossip on the other side.
func (s *Service) EncodeForGossip(r Request) []byte {
	msg, err := json.Marshal(r)
	if err != nil { // a Request of strings, a bool and a time always marshals
		return nil
	}
	return msg
}

// HandleGossip applies a purge received in a memberlist broadcast, once per id however often
// it arrives. It does not retain msg and does not touch the network, so it may be called from
// memberlist's NotifyMsg, concurrently with everything else. Malformed messages are logged and
// dropped.
func (s *Service) HandleGossip(msg []byte) {
	var r Request
	if err := json.Unmarshal(msg, &r); err != nil {
		s.metrics.refused.WithLabelValues(reasonInvalid).Inc()
		s.logger.Warn("purge: malformed gossip message", "err", err)
		return
	}
	if _, _, err := s.applyRemote(r, sourceGossip); err != nil {
		s.logger.Warn("purge: invalid gossip purge", "err", err)
	}
}
