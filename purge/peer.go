package purge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// logAnswer is the answer of GET PeerLogPath.
type logAnswer struct {
	Node   string    `json:"node"`
	Purges []Request `json:"purges"`
}

// maxLogBytes bounds a catch-up answer: a full ban log is about 2 MB of JSON.
const maxLogBytes = 32 << 20

// PeerHandler serves the node-to-node protocol on the peer port: POST PeerPath applies a
// purge another node originated, GET PeerLogPath?since=RFC3339 lists the ban log. Mount it at
// PeerPath without stripping the prefix (through fasthttpadaptor on the fasthttp peer port).
// Every request must carry the cluster secret in SecretHeader, or it gets 403.
func (s *Service) PeerHandler() http.Handler { return http.HandlerFunc(s.servePeer) }

func (s *Service) servePeer(w http.ResponseWriter, r *http.Request) {
	if !s.peerSecretOK(r.Header.Get(SecretHeader)) {
		s.metrics.refused.WithLabelValues(reasonSecret).Inc()
		s.logger.Warn("purge: peer request without the cluster secret", "remote", r.RemoteAddr, "path", r.URL.Path)
		writeError(w, http.StatusForbidden, "missing or wrong "+SecretHeader)
		return
	}
	switch {
	case r.URL.Path == PeerPath && r.Method == http.MethodPost:
		s.servePeerPurge(w, r)
	case r.URL.Path == PeerLogPath && r.Method == http.MethodGet:
		s.serveLog(w, r)
	case r.URL.Path == PeerPath || r.URL.Path == PeerLogPath:
		writeError(w, http.StatusMethodNotAllowed, "POST "+PeerPath+" or GET "+PeerLogPath)
	default:
		writeError(w, http.StatusNotFound, "not found")
	}
}

func (s *Service) servePeerPurge(w http.ResponseWriter, r *http.Request) {
	body, status, err := readBody(w, r)
	if err != nil {
		writeError(w, status, err.Error())
		return
	}
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		s.metrics.refused.WithLabelValues(reasonInvalid).Inc()
		writeError(w, http.StatusBadRequest, "malformed purge: "+err.Error())
		return
	}
	n, _, err := s.applyRemote(req, sourcePeer)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, peerAck{Node: s.cluster.Self(), Purged: n})
}

func (s *Service) serveLog(w http.ResponseWriter, r *http.Request) {
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "since: want RFC 3339 such as 2025-01-02T15:04:05Z: "+err.Error())
			return
		}
		since = t
	}
	purges := s.LogSince(since)
	if purges == nil {
		purges = []Request{}
	}
	writeJSON(w, http.StatusOK, logAnswer{Node: s.cluster.Self(), Purges: purges})
}

// CatchUp pulls from peer the purges its origin accepted at or after since and applies those
// this node has not seen. Call it when a node that kept its cache regains the cluster after a
// partition, with since a little before it lost contact (allow for clock skew between nodes;
// purges already applied are skipped by id). A node that restarted needs no catch-up: its
// memory cache is empty, so there is nothing stale to purge. The ban log reaches back one
// hour and 10,000 purges; a partition longer than that needs a purge of all. ctx bounds the
// request; a ctx without deadline gets conf.Purge.Timeout.
func (s *Service) CatchUp(ctx context.Context, peer Peer, since time.Time) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.settings.Load().timeout)
		defer cancel()
	}
	target := "http://" + peer.PeerAddr + PeerLogPath + "?since=" + url.QueryEscape(since.UTC().Format(time.RFC3339Nano))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("purge: catch-up from %s: %w", peer.Name, err)
	}
	req.Header.Set(SecretHeader, s.secret)
	res, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("purge: catch-up from %s: %w", peer.Name, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxLogBytes))
	if err != nil {
		return fmt.Errorf("purge: catch-up from %s: reading the log: %w", peer.Name, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("purge: catch-up from %s: %s: %s", peer.Name, res.Status, errorMessage(data))
	}
	var ans logAnswer
	if err := json.Unmarshal(data, &ans); err != nil {
		return fmt.Errorf("purge: catch-up from %s: malformed log: %w", peer.Name, err)
	}
	n := s.Apply(ans.Purges)
	s.logger.Info("purge: caught up", "peer", peer.Name, "since", since, "offered", len(ans.Purges), "applied", n)
	return nil
}

// peerSecretOK reports whether got is the cluster secret or one of the accepted ones; with
// no secret configured nothing is.
func (s *Service) peerSecretOK(got string) bool {
	if s.secret == "" {
		return false
	}
	ok := s.equal(got, s.secret)
	for _, a := range s.accepted {
		ok = s.equal(got, a) || ok // every comparison made, whichever matches
	}
	return ok
}
