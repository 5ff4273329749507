package origin

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// probeBodyLimit bounds what a probe reads; expect_body must appear within it.
const probeBodyLimit = 64 << 10

// CheckResult is the outcome of the last active check of a server.
type CheckResult struct {
	OK     bool      `json:"ok"`
	Detail string    `json:"detail"` // "200", or why the check failed
	Time   time.Time `json:"time"`
}

// checkLoop probes s every interval until Close. The first probe is delayed by a random part of
// the interval so that the servers of a pool (and pools of a node) are not probed in lockstep.
func (p *Pool) checkLoop(s *server) {
	defer p.checks.Done()
	delay := time.Duration(rand.Int64N(int64(p.cfg.health.interval)))
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-timer.C:
		}
		p.checkServer(s)
		timer.Reset(p.cfg.health.interval)
	}
}

// checkAll probes every server once, sequentially; tests drive health with it instead of waiting.
func (p *Pool) checkAll() {
	for _, s := range p.servers {
		p.checkServer(s)
	}
}

// checkServer runs one probe and applies its verdict.
func (p *Pool) checkServer(s *server) {
	ok, detail := p.probe(s)
	now := p.now()
	p.metrics.check(p.cfg.name, s.label, ok)
	p.mu.Lock()
	s.lastCheck = CheckResult{OK: ok, Detail: detail, Time: now}
	changed := p.setProbeVerdict(s, ok, now)
	up := p.usable(s, now)
	if changed && up {
		p.wakeLocked() // queued requests may now use this server
	}
	p.mu.Unlock()
	if !changed {
		return
	}
	p.metrics.setUp(p.cfg.name, s.label, up)
	if ok {
		p.log.Info("origin server up", "pool", p.cfg.name, "server", s.label, "check", detail)
	} else {
		p.log.Warn("origin server down", "pool", p.cfg.name, "server", s.label, "check", detail)
	}
}

// probe sends one health request on a fresh connection, so that it also proves the server
// still accepts connections, and judges the answer.
func (p *Pool) probe(s *server) (ok bool, detail string) {
	h := p.cfg.health
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	scheme := "http://"
	if s.cfg.tls {
		scheme = "https://"
	}
	req.SetRequestURI(scheme + s.cfg.addr + h.path)
	host := h.host
	if host == "" {
		host = p.cfg.hostRewrite
	}
	if host != "" {
		req.Header.SetHost(host)
		req.UseHostHeader = true // otherwise fasthttp sends the host of the absolute URI
	}
	req.Header.SetUserAgent("shoal-health-check")
	req.SetConnectionClose()
	if err := s.probe.DoTimeout(req, resp, h.timeout); err != nil {
		return false, classify(err) + ": " + err.Error()
	}
	if !h.healthyStatus(resp.StatusCode()) {
		return false, fmt.Sprintf("status %d, want %s", resp.StatusCode(), h.wantStatus())
	}
	if h.expectBody != "" && !bytes.Contains(resp.Body(), []byte(h.expectBody)) {
		return false, fmt.Sprintf("status %d, body lacks %q", resp.StatusCode(), h.expectBody)
	}
	return true, fmt.Sprintf("status %d", resp.StatusCode())
}

// healthyStatus judges a probe's status: health.expect_status exactly when set, else any 2xx
// or 3xx, as HAProxy's `option httpchk` and nginx Plus's health_check judge it. Demanding
// 200 by default took down every server whose health URL answers 204 (a bare liveness
// handler) or 301 (Apache adding a directory's slash): a working pool fully down.
func (h healthSettings) healthyStatus(status int) bool {
	if h.expectStatus != 0 {
		return status == h.expectStatus
	}
	return status >= 200 && status < 400
}

// wantStatus says what healthyStatus accepts, for the check's detail.
func (h healthSettings) wantStatus() string {
	if h.expectStatus != 0 {
		return strconv.Itoa(h.expectStatus)
	}
	return "2xx or 3xx"
}
