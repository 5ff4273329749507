package purge

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The edge's route rules key a URL elsewhere: /assets/a.css stored as /a.css (rewrite), and
// /v/p.css stored per X-Device (include_headers). A URL purge reaches both forms on every
// node, and the ban log replays them with the same meaning.
func TestService_urlPurgeResolvesThroughTheRoute(t *testing.T) {
	const (
		asked     = "http://www.example.com/assets/a.css"
		rewritten = "http://www.example.com/a.css"
		variants  = "http://www.example.com/v/p.css"
	)
	resolve := func(key string) []Target {
		switch key {
		case asked:
			return []Target{{Kind: KindURL, Value: rewritten}, {Kind: KindURL, Value: asked}}
		case variants:
			return []Target{{Kind: KindPrefix, Value: variants + "\x00"}}
		}
		return nil
	}
	nodes := newCluster(t, newFakeClock(), "edge-1", "edge-2")
	nodes[0].svc.resolver = resolve
	mobile, desktop := variants+"\x00h:X-Device=mobile", variants+"\x00h:X-Device=desktop"
	other := "http://www.example.com/v/p.css.map"
	for _, n := range nodes {
		mustSet(t, n.store, object(rewritten, ""), object(mobile, ""), object(desktop, ""), object(other, ""))
	}

	resp := purgeOrFail(t, nodes[0].svc, Request{Kind: KindURL, Value: asked})
	if resp.Purged != 2 || len(resp.Missing) != 0 {
		t.Errorf("purge of %s: %+v, want 2 objects purged (one per node)", asked, resp)
	}
	resp = purgeOrFail(t, nodes[0].svc, Request{Kind: KindURL, Value: variants, Soft: true})
	if resp.Purged != 4 {
		t.Errorf("soft purge of %s: %+v, want both variants on both nodes", variants, resp)
	}
	for _, n := range nodes {
		if present(n.store, rewritten) {
			t.Errorf("%s still holds the rewritten key", n.name)
		}
		for _, k := range []string{mobile, desktop} {
			o, ok := n.store.Get(k)
			if !ok || !o.SoftPurged() {
				t.Errorf("%s: variant %q not marked stale (present %v)", n.name, k, ok)
			}
		}
		if o, ok := n.store.Get(other); !ok || o.SoftPurged() {
			t.Errorf("%s: %q shares the prefix without the NUL and was purged", n.name, other)
		}
	}

	// A node that missed both (a restart with its disk) replays them from edge-2's log with no
	// resolver of its own: the targets travel in the entry.
	log := nodes[1].svc.LogSince(time.Time{})
	if len(log) != 2 || len(log[0].Also) != 1 || log[0].Also[0].Value != rewritten {
		t.Fatalf("edge-2's ban log: %+v", log)
	}
	late := newCluster(t, newFakeClock(), "edge-3")[0]
	mustSet(t, late.store, object(rewritten, ""), object(mobile, ""))
	if got := late.svc.Apply(log); got != 2 {
		t.Errorf("applied %d of 2", got)
	}
	if present(late.store, rewritten) {
		t.Error("the replayed ban did not remove the rewritten key")
	}
	if o, ok := late.store.Get(mobile); !ok || !o.SoftPurged() {
		t.Error("the replayed soft ban did not mark the variant")
	}
}

func TestRequest_checkRemoteRefusesBadTargets(t *testing.T) {
	now := time.Now()
	base := Request{ID: "x", Time: now, Kind: KindURL, Value: "http://h/a"}
	tests := []struct {
		name string
		r    Request
	}{
		{"targets on a prefix purge", Request{ID: "x", Time: now, Kind: KindPrefix, Value: "http://h/", Also: []Target{{KindURL, "http://h/a"}}}},
		{"tag target", withAlso(base, Target{KindKey, "t"})},
		{"not a key", withAlso(base, Target{KindURL, "/a.css"})},
		{"empty prefix", withAlso(base, Target{KindPrefix, "http://"})},
		{"too long", withAlso(base, Target{KindURL, "http://h/" + strings.Repeat("a", maxValueLen)})},
		{"too many", withAlso(base, make([]Target, maxTargets+1)...)},
	}
	for _, tt := range tests {
		if err := tt.r.checkRemote(); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if err := withAlso(base, Target{KindPrefix, "http://h/a\x00"}).checkRemote(); err != nil {
		t.Errorf("a variant prefix: %v", err)
	}
}

func withAlso(r Request, t ...Target) Request {
	r.Also = t
	return r
}

// An API client cannot name targets: they are the accepting node's to resolve.
func TestParseAPIRequest_refusesTargets(t *testing.T) {
	if _, err := ParseAPIRequest([]byte(`{"url": "http://h/a", "also": [{"kind": "prefix", "value": "http://"}]}`)); err == nil {
		t.Error("accepted")
	}
}

// A peer's purge is JSON from the network: decoding and checking it never panics, and an
// accepted one names only bounded url and prefix targets of a URL purge.
func FuzzCheckRemote(f *testing.F) {
	f.Add(`{"id":"a","time":"2026-01-01T00:00:00Z","kind":"url","value":"http://h/a","also":[{"kind":"prefix","value":"http://h/a\u0000"}]}`)
	f.Add(`{"id":"a","time":"2026-01-01T00:00:00Z","kind":"prefix","value":"http://h/","also":[{"kind":"url","value":"http://h/a"}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		var r Request
		if json.Unmarshal([]byte(body), &r) != nil || r.checkRemote() != nil {
			return
		}
		if len(r.Also) > 0 && r.Kind != KindURL || len(r.Also) > maxTargets {
			t.Fatalf("accepted %+v", r)
		}
		for _, tg := range r.Also {
			if tg.Kind != KindURL && tg.Kind != KindPrefix || len(tg.Value) > maxValueLen {
				t.Fatalf("accepted target %+v", tg)
			}
		}
	})
}
