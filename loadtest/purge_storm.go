package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PurgeRequest is the body of POST /purge on the admin API; exactly one field is set.
type PurgeRequest struct {
	URL    string `json:"url,omitempty"`
	Prefix string `json:"prefix,omitempty"`
}

// PurgeStormConfig describes invalidations sent while the main load runs.
type PurgeStormConfig struct {
	// Admin is the admin API base URL, e.g. "http://127.0.0.1:9090".
	Admin string
	// Token is sent as "Authorization: Bearer <token>" when not empty.
	Token string
	// Rate is purges per second; zero means 5.
	Rate float64
	// Timeout bounds one purge call; zero means 10s.
	Timeout time.Duration
}

// PurgeStats counts what a purge storm sent. Codes maps HTTP status to count (0: no response).
type PurgeStats struct {
	Sent   uint64
	Failed uint64
	Codes  map[int]uint64
	Errors []string // distinct, in order of first appearance
}

// String is the one-line summary printed after an attack.
func (s PurgeStats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "purge storm: %d sent, %d failed, codes", s.Sent, s.Failed)
	for _, code := range sortedKeys(s.Codes) {
		fmt.Fprintf(&b, " %d:%d", code, s.Codes[code])
	}
	return b.String()
}

// PurgeStorm posts purges to the admin API at a fixed rate. The admin listener is net/http and
// purges are few, so plain net/http is the simpler client here. Run may be called once.
type PurgeStorm struct {
	cfg    PurgeStormConfig
	next   func(i uint64) PurgeRequest
	client *http.Client
}

// NewPurgeStorm returns a storm sending next(0), next(1), ...; next is called from one
// goroutine at a time.
func NewPurgeStorm(cfg PurgeStormConfig, next func(i uint64) PurgeRequest) (*PurgeStorm, error) {
	if cfg.Admin == "" {
		return nil, fmt.Errorf("loadtest: purge storm: admin URL is required")
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 5
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	return &PurgeStorm{cfg: cfg, next: next, client: &http.Client{Timeout: cfg.Timeout}}, nil
}

// Run purges until ctx ends and returns what happened. Purges are sent concurrently on their
// own schedule, so a slow admin API does not thin the storm.
func (p *PurgeStorm) Run(ctx context.Context) PurgeStats {
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		stats = PurgeStats{Codes: map[int]uint64{}}
		seen  = map[string]bool{}
	)
	record := func(code int, errText string) {
		mu.Lock()
		defer mu.Unlock()
		stats.Sent++
		stats.Codes[code]++
		if errText != "" {
			stats.Failed++
			if !seen[errText] {
				seen[errText] = true
				stats.Errors = append(stats.Errors, errText)
			}
		}
	}
	ticker := time.NewTicker(time.Duration(float64(time.Second) / p.cfg.Rate))
	defer ticker.Stop()
	for i := uint64(0); ; i++ {
		pr := p.next(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			record(p.send(ctx, pr))
		}()
		select {
		case <-ctx.Done():
			wg.Wait()
			return stats
		case <-ticker.C:
		}
	}
}

func (p *PurgeStorm) send(ctx context.Context, pr PurgeRequest) (code int, errText string) {
	body, err := json.Marshal(pr)
	if err != nil {
		return 0, err.Error()
	}
	// The storm's ctx ends with the attack; a purge already sent is still allowed to finish.
	ctx = context.WithoutCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(p.cfg.Admin, "/")+"/purge", bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	if p.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.cfg.Token)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
	}
	return resp.StatusCode, ""
}

// MixedPurges alternates exact-URL purges of Zipf-popular keys (the objects most worth
// invalidating) with prefix purges of one tenth of the key space ("<prefix>1", "<prefix>2", ...),
// so the storm exercises both index paths of the purge API. urlOf maps a key to its URL.
func MixedPurges(urlOf func(key string) string, z *Zipf, seed uint64) func(i uint64) PurgeRequest {
	return func(i uint64) PurgeRequest {
		if i%2 == 0 {
			return PurgeRequest{URL: urlOf(strconv.Itoa(z.Rank(uniform(seed^0x5eed, i))))}
		}
		return PurgeRequest{Prefix: urlOf(strconv.FormatUint(i/2%9+1, 10))}
	}
}
