package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/internal/testenv"
)

// inlineRoute is oneRoute with the pool's first-byte timeout inside cache.fill_timeout, as
// the daemon's defaults are (15s and 30s): a leader fills on its own goroutine (startFill).
// The other tests' nodes (fill_timeout 5s, the default first_byte_timeout 15s) fill in a
// goroutine of the fill's own.
func inlineRoute(originURL, firstByte string) string {
	return strings.Replace(oneRoute(true, originURL), "    servers:\n", "    first_byte_timeout: "+firstByte+"\n    servers:\n", 1)
}

func TestFillInline_onlyWhenThePoolBoundsEveryWait(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		firstByte, connect, queue time.Duration
		maxConns, retries         int
		want                      bool
	}{
		{"defaults", 15 * time.Second, 2 * time.Second, 5 * time.Second, 0, 2, true},
		{"defaults with max_conns", 15 * time.Second, 2 * time.Second, 5 * time.Second, 10, 2, true},
		{"first byte equal to the fill timeout", 30 * time.Second, 2 * time.Second, 5 * time.Second, 0, 0, true},
		{"first byte past the fill timeout", 31 * time.Second, 2 * time.Second, 5 * time.Second, 0, 0, false},
		{"connect past the fill timeout", 15 * time.Second, 31 * time.Second, 5 * time.Second, 0, 0, false},
		{"queue past it, no max_conns", 15 * time.Second, 2 * time.Second, time.Minute, 0, 0, true},
		{"queue past it with max_conns", 15 * time.Second, 2 * time.Second, time.Minute, 10, 0, false},
		{"queue within it with max_conns", 15 * time.Second, 2 * time.Second, 5 * time.Second, 10, 0, true},
		// Retries: each attempt connects (and queues) again.
		{"retried connects add up to the fill timeout", 15 * time.Second, 10 * time.Second, 0, 0, 2, true},
		{"retried connects add up past it", 15 * time.Second, 11 * time.Second, 0, 0, 2, false},
		{"retried queue and connect past it", 15 * time.Second, 2 * time.Second, 9 * time.Second, 10, 2, false},
		{"retries -1 is none", 15 * time.Second, 30 * time.Second, 0, 0, -1, true},
	} {
		cfg := &conf.Config{Origins: map[string]*conf.Pool{"o": {
			FirstByteTimeout: conf.Duration(tc.firstByte), ConnectTimeout: conf.Duration(tc.connect),
			QueueTimeout: conf.Duration(tc.queue), MaxConns: tc.maxConns, Retries: tc.retries}}}
		cfg.Cache.FillTimeout = conf.Duration(30 * time.Second)
		if got := fillInline(cfg, "o"); got != tc.want {
			t.Errorf("%s: fillInline = %v, want %v", tc.name, got, tc.want)
		}
		if fillInline(cfg, "other") {
			t.Errorf("%s: a pool the config does not name fills inline", tc.name)
		}
	}
}

// A leader filling on its own goroutine still makes one origin fetch for every concurrent
// request, streams the body to each, and stores it: a body small enough to copy before
// answering, one larger (copied by a goroutine after the head), and one of unknown length.
func TestNode_inlineFillCoalescesAndStores(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, inlineRoute(o.URL, "5s"), Options{})
	for _, tc := range []struct {
		name   string
		script testenv.Script
	}{
		{"1KiB", testenv.Script{Body: []byte(strings.Repeat("a", 1<<10))}},
		{"200KiB", testenv.Script{Body: []byte(strings.Repeat("b", 200<<10))}},
		{"chunked-200KiB", testenv.Script{Body: []byte(strings.Repeat("c", 200<<10)), Framing: testenv.Chunked, Chunk: 16 << 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/" + tc.name + ".bin"
			s := tc.script
			s.Header = testenv.Fields("Cache-Control", "max-age=60")
			s.Delay = 200 * time.Millisecond // the followers arrive while the leader waits for the head
			s.Stall = 100 * time.Millisecond // and while the body is on its way
			o.Script(path, s)
			replies := make([]reply, 8)
			parallel(len(replies), func(i int) { replies[i] = strictGet(t, n.HTTPAddr(), path) })
			for i, r := range replies {
				if r.err != nil || r.status != http.StatusOK || r.body != string(s.Body) {
					t.Errorf("client %d: %d, %d bytes, err %v", i, r.status, len(r.body), r.err)
				}
			}
			if got := o.Count(path); got != 1 {
				t.Errorf("origin saw %d requests for %d concurrent clients, want 1", got, len(replies))
			}
			n.bg.Wait()
			if again := strictGet(t, n.HTTPAddr(), path); !again.hit() || again.body != string(s.Body) {
				t.Errorf("next request: %q, %d bytes; want a hit", again.cacheStatus(), len(again.body))
			}
		})
	}
}

// A body cut short on the inline path is not presented as complete and is not stored
// (issue 13), whether the leader copies it before answering or a goroutine does.
func TestNode_inlineTruncatedBodyIsNotStored(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, inlineRoute(o.URL, "5s"), Options{})
	for _, size := range []int{400, 100 << 10} {
		for _, tc := range truncations {
			t.Run(fmt.Sprintf("%d/%s", size, tc.name), func(t *testing.T) {
				path := fmt.Sprintf("/%d-%s.css", size, tc.name)
				cut := tc.script
				cut.Header = testenv.Fields("Cache-Control", "max-age=60")
				cut.Body = []byte(strings.Repeat("t", size))
				if cut.CutAt != 0 {
					cut.CutAt = size / 2
				}
				o.Sequence(path, cut, whole)
				// A cut seen before the head went out is the node's 502 (origin.startBody).
				if first := strictGet(t, n.HTTPAddr(), path); first.err == nil && first.status != http.StatusBadGateway {
					t.Errorf("truncated response read as complete: %d, %d bytes", first.status, len(first.body))
				}
				n.bg.Wait()
				second := strictGet(t, n.HTTPAddr(), path)
				if second.err != nil || second.body != string(whole.Body) || second.hit() {
					t.Errorf("next request: err %v, %d bytes, Cache-Status %q; want the origin's whole body", second.err, len(second.body), second.cacheStatus())
				}
				if got := o.Count(path); got != 2 {
					t.Errorf("origin saw %d requests, want 2 (the truncated object must not be stored)", got)
				}
			})
		}
	}
}

// The leader of an inline fill relays the origin's 103s before its final response, as the
// fill's own goroutine does; a pooled job relays no earlier fill's hints.
func TestNode_inlineFillRelaysEarlyHints(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, inlineRoute(o.URL, "5s"), Options{})
	for i := range 3 { // jobs are pooled: a later fill must not see an earlier one's hints
		path := fmt.Sprintf("/hints-%d.css", i)
		s := testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte("final body")}
		if i != 1 {
			s.Interim = []testenv.Interim{hints, hints}
		}
		o.Script(path, s)
		got := responses(t, n.HTTPAddr(), "GET "+path+" HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
		last := got[len(got)-1]
		if last.err != nil || last.status != 200 || last.body != "final body" {
			t.Fatalf("%s: final response %d %q err %v", path, last.status, last.body, last.err)
		}
		want := 2
		if i == 1 {
			want = 0
		}
		if len(got)-1 != want {
			t.Errorf("%s: client saw %d interim responses, want %d", path, len(got)-1, want)
		}
	}
}

// An origin that never answers: the inline leader is bounded by the pool's first-byte
// timeout (within the fill timeout, or it would not be inline), its followers by the fill
// timer at the latest; every client gets 504, not the answer the origin sends 2s later, and
// the origin one request.
func TestNode_inlineStalledOriginAnswers504(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, inlineRoute(o.URL, "300ms"), Options{})
	o.Script("/stuck.css", testenv.Script{Delay: 2 * time.Second, Header: testenv.Fields("Cache-Control", "max-age=60")})
	statuses := make([]int, 5)
	parallel(len(statuses), func(i int) { statuses[i] = strictGet(t, n.HTTPAddr(), "/stuck.css").status })
	for i, s := range statuses {
		if s != http.StatusGatewayTimeout {
			t.Errorf("client %d: %d, want 504", i, s)
		}
	}
	if got := o.Count("/stuck.css"); got != 1 {
		t.Errorf("origin saw %d requests, want 1", got)
	}
}
