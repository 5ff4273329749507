package purge

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
)

// AdminHandler serves POST /purge on the admin listener (mount it at "/purge" without
// stripping the prefix). A request must come from an address in conf.Purge.Allow and carry
// "Authorization: Bearer <conf.Purge.Token>"; with no token configured the API refuses
// everything. The fan-out outlives a client that hangs up, so a purge is never half-sent
// because curl was interrupted.
func (s *Service) AdminHandler() http.Handler { return http.HandlerFunc(s.serveAdmin) }

func (s *Service) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/purge" {
		writeError(w, http.StatusNotFound, "not found: the purge API is POST /purge")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "the purge API takes POST")
		return
	}
	if status, reason, msg := s.authorizeAdmin(r); status != 0 {
		s.metrics.refused.WithLabelValues(reason).Inc()
		s.logger.Warn("purge: refused", "remote", r.RemoteAddr, "reason", reason)
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", bearerChallenge(r))
		}
		writeError(w, status, msg)
		return
	}
	body, status, err := readBody(w, r)
	if err != nil {
		s.metrics.refused.WithLabelValues(reasonInvalid).Inc()
		writeError(w, status, err.Error())
		return
	}
	req, err := ParseAPIRequest(body)
	if err != nil {
		s.metrics.refused.WithLabelValues(reasonInvalid).Inc()
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	resp, err := s.originate(context.WithoutCancel(r.Context()), req, sourceAPI)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// readBody reads a request's body of at most maxBodyBytes, or says why not with the status
// to answer. A Content-Length above the bound is refused from the head: MaxBytesReader
// alone waited for the declared bytes, so `Content-Length: 99999999999` with a short body
// held the request until the client gave up, with no answer.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	if r.ContentLength > maxBodyBytes {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("reading the body: Content-Length %d is above %d bytes", r.ContentLength, maxBodyBytes)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("reading the body: %w", err)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("reading the body: %w", err)
	}
	return body, 0, nil
}

// authorizeAdmin returns a zero status when r may purge. The address is checked before the
// token, so hosts outside the allow list learn nothing about the token.
func (s *Service) authorizeAdmin(r *http.Request) (status int, reason, msg string) {
	st := s.settings.Load()
	if st.token == "" {
		return http.StatusForbidden, reasonNoToken, "purge API disabled: no purge.token_file configured"
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !st.allows(ap.Addr()) {
		return http.StatusForbidden, reasonAddress, "address not allowed to purge (purge.allow)"
	}
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok || !s.equal(token, st.token) {
		return http.StatusUnauthorized, reasonToken, "missing or wrong bearer token"
	}
	return 0, "", ""
}

// bearerChallenge is the WWW-Authenticate a 401 must carry (RFC 9110 section 15.5.2), in
// RFC 6750 section 3's form: invalid_token only when a bearer token was sent (a request with
// none, or with another scheme, gets the bare challenge).
func bearerChallenge(r *http.Request) string {
	if _, sent := bearerToken(r.Header.Get("Authorization")); sent {
		return `Bearer realm="shoal", error="invalid_token"`
	}
	return `Bearer realm="shoal"`
}

func bearerToken(h string) (string, bool) {
	const scheme = "bearer "
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	return strings.TrimSpace(h[len(scheme):]), true
}

// SecretEqual compares secrets in time independent of where they differ and of their
// lengths (it compares digests), so a client cannot guess a token byte by byte. The edge
// checks the cluster secret on its peer port with it too.
func SecretEqual(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client hung up, nothing left to tell it
}

// errorMessage extracts the "error" of an answer written by writeError, or the raw text.
func errorMessage(data []byte) string {
	var e errorBody
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		return e.Error
	}
	msg := strings.TrimSpace(string(data))
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return msg
}
