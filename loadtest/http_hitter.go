package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// TargetFunc picks the target for request seq. It is called from many workers at once and
// must be safe for concurrent use; deterministic in seq is best, so runs can be replayed.
type TargetFunc func(seq uint64) Target

// HTTPConfig tunes HTTPHitter. The zero value keeps connections alive, waits 30s per request,
// and records response headers but no bodies.
type HTTPConfig struct {
	// Timeout bounds one request including connecting; zero means 30s.
	Timeout time.Duration
	// DisableKeepAlive sends "Connection: close" so every request opens a new connection.
	DisableKeepAlive bool
	// MaxConnsPerHost caps connections to each host; zero means 10000. Requests beyond it
	// wait up to Timeout for a free connection.
	MaxConnsPerHost int
	// Header is added to every request whose target does not set that header itself.
	Header http.Header
	// MaxBody is how many response body bytes to keep in Result.Body: zero keeps none (unlike
	// vegeta, which keeps all, because bodies dominate result files), negative keeps all.
	MaxBody int
}

// HTTPHitter sends HTTP/1.1 requests with fasthttp: the data plane it loads is fasthttp, and
// a load generator that costs less CPU per request than the server leaves the 2-core test
// machine to the server. Safe for concurrent use.
type HTTPHitter struct {
	cfg     HTTPConfig
	client  *fasthttp.Client
	targets TargetFunc
}

// NewHTTPHitter returns a hitter sending the targets chosen by targets.
func NewHTTPHitter(cfg HTTPConfig, targets TargetFunc) *HTTPHitter {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxConnsPerHost <= 0 {
		cfg.MaxConnsPerHost = 10000
	}
	client := &fasthttp.Client{
		MaxConnsPerHost:    cfg.MaxConnsPerHost,
		MaxConnWaitTimeout: cfg.Timeout,
		ReadTimeout:        cfg.Timeout,
		WriteTimeout:       cfg.Timeout,
		// Targets spell header names as the system under test expects; keep them as written.
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
		NoDefaultUserAgentHeader:      true,
	}
	return &HTTPHitter{cfg: cfg, client: client, targets: targets}
}

// Close releases idle connections.
func (h *HTTPHitter) Close() { h.client.CloseIdleConnections() }

// Hit implements Hitter.
func (h *HTTPHitter) Hit(ctx context.Context, seq uint64, res *Result) {
	tgt := h.targets(seq)
	res.Method, res.URL = tgt.Method, tgt.URL

	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)

	req.Header.DisableNormalizing()
	req.SetRequestURI(tgt.URL)
	req.Header.SetMethod(tgt.Method)
	for name, values := range tgt.Header {
		h.setHeader(req, name, values)
	}
	for name, values := range h.cfg.Header {
		if !hasHeaderFold(tgt.Header, name) {
			h.setHeader(req, name, values)
		}
	}
	if len(tgt.Body) > 0 {
		req.SetBodyRaw(tgt.Body)
	}
	if h.cfg.DisableKeepAlive {
		req.SetConnectionClose()
	}
	res.BytesOut = uint64(len(tgt.Body))

	deadline := time.Now().Add(h.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := h.client.DoDeadline(req, resp, deadline); err != nil {
		res.Error = err.Error()
		return
	}
	code := resp.StatusCode()
	res.Code = uint16(code)
	body := resp.Body()
	res.BytesIn = uint64(len(body))
	if keep := h.cfg.MaxBody; keep != 0 {
		if keep < 0 || keep > len(body) {
			keep = len(body)
		}
		res.Body = append([]byte(nil), body[:keep]...)
	}
	res.Headers = make(http.Header, resp.Header.Len())
	for k, v := range resp.Header.All() {
		name := string(k)
		res.Headers[name] = append(res.Headers[name], string(v))
	}
	if code < 200 || code >= 400 {
		// vegeta records the status line as the error, so reports list what went wrong.
		res.Error = fmt.Sprintf("%d %s", code, http.StatusText(code))
	}
}

func (h *HTTPHitter) setHeader(req *fasthttp.Request, name string, values []string) {
	if strings.EqualFold(name, "Host") {
		if len(values) > 0 {
			// Send to the URL's address but present this virtual host, as a CDN edge expects.
			req.Header.SetHost(values[0])
			req.UseHostHeader = true
		}
		return
	}
	for _, v := range values {
		req.Header.Add(name, v)
	}
}

// Header names keep their written case here, so lookups must ignore case themselves.
func hasHeaderFold(h http.Header, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func headerValueFold(h http.Header, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}
