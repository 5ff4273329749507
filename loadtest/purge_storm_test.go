package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type purgeRecorder struct {
	mu       sync.Mutex
	requests []PurgeRequest
	auth     []string
	bad      []string
	arrived  chan struct{} // one value per accepted purge, when not nil
}

func (p *purgeRecorder) handler(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/purge" || r.Header.Get("Content-Type") != "application/json" {
		p.bad = append(p.bad, r.Method+" "+r.URL.Path)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var pr PurgeRequest
	if err := dec.Decode(&pr); err != nil || (pr.URL == "") == (pr.Prefix == "") {
		p.bad = append(p.bad, "body")
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	p.requests = append(p.requests, pr)
	p.auth = append(p.auth, r.Header.Get("Authorization"))
	if p.arrived != nil {
		select {
		case p.arrived <- struct{}{}:
		default:
		}
	}
	_, _ = w.Write([]byte(`{"purged":1,"acked":["edge-1"],"missing":[]}`))
}

func TestPurgeStorm_PostsToAdminAPI(t *testing.T) {
	rec := &purgeRecorder{arrived: make(chan struct{}, 1000)}
	admin := okServer(t, rec.handler)
	z, _ := NewZipf(20, 1)
	ks := KeySpace{Bases: []string{"http://www.example.test"}}
	storm, err := NewPurgeStorm(PurgeStormConfig{Admin: admin.URL, Token: "s3cret", Rate: 200}, MixedPurges(ks.URL, z, 1))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan PurgeStats)
	go func() { done <- storm.Run(ctx) }()
	for range 4 {
		<-rec.arrived
	}
	cancel()
	stats := <-done

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.bad) > 0 {
		t.Fatalf("malformed purges: %v", rec.bad)
	}
	if stats.Sent != uint64(len(rec.requests)) || stats.Failed != 0 || stats.Codes[200] != stats.Sent {
		t.Fatalf("stats %+v for %d received", stats, len(rec.requests))
	}
	var urls, prefixes int
	for i, pr := range rec.requests {
		if rec.auth[i] != "Bearer s3cret" {
			t.Fatalf("Authorization %q", rec.auth[i])
		}
		switch {
		case strings.HasPrefix(pr.URL, "http://www.example.test/obj/"):
			urls++
		case strings.HasPrefix(pr.Prefix, "http://www.example.test/obj/"):
			prefixes++
		default:
			t.Fatalf("purge %+v outside the key space", pr)
		}
	}
	if urls == 0 || prefixes == 0 {
		t.Fatalf("%d url and %d prefix purges, want both kinds", urls, prefixes)
	}
	if !strings.Contains(stats.String(), "200:") {
		t.Fatalf("summary %q", stats.String())
	}
}

func TestPurgeStorm_CountsFailures(t *testing.T) {
	admin := okServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	storm, _ := NewPurgeStorm(PurgeStormConfig{Admin: admin.URL, Rate: 1}, func(uint64) PurgeRequest { return PurgeRequest{URL: "http://h/a"} })
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // one purge is sent before the storm notices
	stats := storm.Run(ctx)
	if stats.Sent != 1 || stats.Failed != 1 || len(stats.Errors) != 1 || stats.Errors[0] != "401 Unauthorized" {
		t.Fatalf("stats %+v", stats)
	}
}

// TestCommand_PurgeStormScenario runs the whole scenario: zipf load on a node while purges hit
// the admin API, naming objects by the virtual host the load presents.
func TestCommand_PurgeStormScenario(t *testing.T) {
	rec := &purgeRecorder{}
	admin := okServer(t, rec.handler)
	node := okServer(t, func(w http.ResponseWriter, r *http.Request) {})
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := runCommand(context.Background(), []string{"attack", "-scenario", "purge-storm", "-base", node.URL,
		"-header", "Host: cdn.example.test", "-keys", "50", "-rate", "100", "-duration", "200ms",
		"-purge-admin", admin.URL, "-purge-token-file", tokenFile, "-purge-rate", "50"}, nil, &stdout, &stderr)
	if err != nil {
		t.Fatalf("attack: %v\n%s", err, stderr.String())
	}
	if got := decodeAll(t, &stdout); len(got) != 20 {
		t.Fatalf("%d load results, want 20", len(got))
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.requests) == 0 || len(rec.bad) > 0 {
		t.Fatalf("admin saw %d purges, bad %v", len(rec.requests), rec.bad)
	}
	for i, pr := range rec.requests {
		if rec.auth[i] != "Bearer tok" || !strings.HasPrefix(pr.URL+pr.Prefix, "http://cdn.example.test/obj/") {
			t.Fatalf("purge %+v auth %q", pr, rec.auth[i])
		}
	}
	if !strings.Contains(stderr.String(), "purge storm:") {
		t.Fatalf("stderr lacks purge summary:\n%s", stderr.String())
	}
}
