package purge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// peerAck is a peer's answer to a fanned-out purge.
type peerAck struct {
	Node   string `json:"node"`
	Purged int    `json:"purged"`
}

// permanentError is a peer answer that retrying cannot change (a 4xx: wrong secret, a
// request the peer finds invalid).
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// fanOut sends r to every live peer in parallel and waits for all of them or the timeout.
// Acked starts with self, which has already applied r.
func (s *Service) fanOut(ctx context.Context, r Request) Response {
	self := s.cluster.Self()
	resp := Response{ID: r.ID, Acked: []string{self}, Missing: []string{}}
	var peers []Peer
	for _, p := range s.cluster.Peers() {
		if p.Name != self {
			peers = append(peers, p)
		}
	}
	if len(peers) == 0 {
		return resp
	}
	if s.secret == "" {
		for _, p := range peers {
			resp.Missing = append(resp.Missing, p.Name)
		}
		s.metrics.stragglers.Add(float64(len(peers)))
		return resp
	}

	body, err := json.Marshal(r)
	if err != nil { // a Request always marshals; keep the purge local rather than panic
		s.logger.Error("purge: encoding a purge for peers", "err", err)
		return resp
	}
	ctx, cancel := context.WithTimeout(ctx, s.settings.Load().timeout)
	defer cancel()
	start := time.Now()
	acks := make([]peerAck, len(peers))
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Go(func() { acks[i], errs[i] = s.sendWithRetry(ctx, p, body) })
	}
	wg.Wait()
	s.metrics.fanout.Observe(time.Since(start).Seconds())

	for i, p := range peers {
		if errs[i] != nil {
			resp.Missing = append(resp.Missing, p.Name)
			s.metrics.stragglers.Inc()
			s.logger.Warn("purge: peer did not acknowledge", "id", r.ID, "peer", p.Name, "addr", p.PeerAddr, "err", errs[i])
			continue
		}
		resp.Acked = append(resp.Acked, p.Name)
		resp.Purged += acks[i].Purged
	}
	return resp
}

// sendWithRetry posts body to p up to s.attempts times, doubling the pause between attempts,
// until p acknowledges, answers with a permanent refusal, or ctx ends.
func (s *Service) sendWithRetry(ctx context.Context, p Peer, body []byte) (peerAck, error) {
	pause := s.backoff
	for attempt := 1; ; attempt++ {
		ack, err := s.send(ctx, p, body)
		if err == nil || isPermanent(err) || attempt >= s.attempts {
			return ack, err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return peerAck{}, fmt.Errorf("%w (after %d attempts)", err, attempt)
		case <-t.C:
		}
		pause *= 2
	}
}

func (s *Service) send(ctx context.Context, p Peer, body []byte) (peerAck, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+p.PeerAddr+PeerPath, bytes.NewReader(body))
	if err != nil {
		return peerAck{}, permanentError{fmt.Errorf("purge: peer %s: %w", p.Name, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SecretHeader, s.secret)
	res, err := s.client.Do(req)
	if err != nil {
		return peerAck{}, fmt.Errorf("purge: peer %s: %w", p.Name, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBodyBytes))
	if err != nil {
		return peerAck{}, fmt.Errorf("purge: peer %s: reading the answer: %w", p.Name, err)
	}
	if res.StatusCode != http.StatusOK {
		err := fmt.Errorf("purge: peer %s answered %s: %s", p.Name, res.Status, errorMessage(data))
		retryable := res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusRequestTimeout
		if !retryable {
			err = permanentError{err}
		}
		return peerAck{}, err
	}
	var ack peerAck
	if err := json.Unmarshal(data, &ack); err != nil {
		return peerAck{}, fmt.Errorf("purge: peer %s: malformed answer: %w", p.Name, err)
	}
	return ack, nil
}
