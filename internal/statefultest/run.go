package statefultest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
)

// counts is what a run did, for the report.
type counts struct {
	steps, ops, gets, purges, acked, membership atomic.Int64 // steps: those run, the failing one included
	posts                                       atomic.Int64
	hits, unavailable                           atomic.Int64 // Cache-Status hit; 5xx or no answer
	evicted                                     atomic.Int64 // objects evicted or refused admission, members alive at the end
	originRequests, revalidations               int          // origin answers with a body; 304s
}

func (c *counts) add(o *counts) {
	for _, p := range []struct{ to, from *atomic.Int64 }{{&c.steps, &o.steps}, {&c.ops, &o.ops}, {&c.gets, &o.gets},
		{&c.purges, &o.purges}, {&c.posts, &o.posts}, {&c.acked, &o.acked}, {&c.membership, &o.membership}, {&c.hits, &o.hits}, {&c.unavailable, &o.unavailable}, {&c.evicted, &o.evicted}} {
		p.to.Add(p.from.Load())
	}
	c.originRequests += o.originRequests
	c.revalidations += o.revalidations
}

func (c *counts) String() string {
	return fmt.Sprintf("%d steps, %d operations (%d GETs: %d hits, %d unavailable; %d purges, %d acknowledged by all; %d POSTs; %d membership changes), %d evicted or refused by the stores, %d origin responses with a body, %d origin 304s",
		c.steps.Load(), c.ops.Load(), c.gets.Load(), c.hits.Load(), c.unavailable.Load(), c.purges.Load(), c.acked.Load(), c.posts.Load(), c.membership.Load(), c.evicted.Load(), c.originRequests, c.revalidations)
}

// runner runs one sequence against fresh members and a fresh origin.
type runner struct {
	disk    bool // members have a disk tier
	members int  // 1: one node; more: a cluster with joins, leaves and kills
	client  *http.Client
}

func newRunner(members int, disk bool) *runner {
	return &runner{members: members, disk: disk, client: &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			DisableCompression:  true, // Accept-Encoding is ours to send and the body ours to decode
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     5 * time.Second,
		},
	}}
}

// run executes seq and returns the first broken promise (a *violation), or another error
// when the run could not be set up.
func (r *runner) run(seq []step) (*counts, error) {
	o, err := startOrigin()
	if err != nil {
		return nil, err
	}
	defer o.close()
	c, err := newCluster(o.URL, r.members, r.disk)
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	n := &counts{}
	defer func() {
		for _, node := range c.members() {
			st := node.Store().Stats()
			n.evicted.Add(int64(st.Evictions + st.Rejected))
		}
		c.stop()
	}()
	m := &model{origin: o}
	defer func() { n.originRequests, n.revalidations = o.counts() }()
	for _, s := range seq {
		n.steps.Add(1)
		var wg sync.WaitGroup
		errs := make([]error, len(s))
		for i, op := range s {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = r.do(c, o, m, n, op)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (r *runner) do(c *cluster, o *origin, m *model, n *counts, op op) error {
	n.ops.Add(1)
	switch op.kind {
	case opGet:
		return r.get(c, m, n, op)
	case opPurge:
		return r.purge(c, o, m, n, op)
	case opSleep:
		time.Sleep(op.d)
	case opPost:
		return r.post(c, o, m, n, op)
	case opJoin:
		if c.size() >= 5 {
			return nil
		}
		n.membership.Add(1)
		if err := c.join(); err != nil {
			return err
		}
	case opLeave, opKill:
		n.membership.Add(1)
		c.remove(op.node, op.kind == opKill)
	}
	if op.settle {
		c.waitConverged(c.size()) // bounded; a run goes on whether or not they agree
	}
	return nil
}

func (r *runner) get(c *cluster, m *model, n *counts, op op) error {
	n.gets.Add(1)
	node := c.node(op.node)
	h, target := op.target(op.path)
	req, err := http.NewRequest("GET", "http://"+node.HTTPAddr()+target, nil)
	if err != nil {
		return err
	}
	req.Host = h
	if op.xv != "" {
		req.Header.Set("X-V", op.xv)
	}
	if op.ae != "" {
		req.Header.Set("Accept-Encoding", op.ae)
	}
	a := answer{get: op, sent: time.Now(), node: node.Ring().Self().Name}
	resp, err := r.client.Do(req)
	if err != nil {
		return r.unavailable(n, a, "no answer: %v", err) // a member going away under the request
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	a.status, a.encoding, a.cache = resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Cache-Status")
	a.vary = strings.Join(resp.Header.Values("Vary"), ", ")
	if err != nil {
		return r.unavailable(n, a, "body cut short after %d bytes: %v", len(raw), err) // and the client can tell
	}
	if a.status >= 500 {
		return r.unavailable(n, a, "%.200s", raw)
	}
	if a.status != http.StatusOK {
		return broken(a, "status %d: %.200s", a.status, raw)
	}
	if strings.Contains(a.cache, "hit") {
		n.hits.Add(1)
	}
	if a.body, err = decode(a.encoding, raw); err != nil {
		return broken(a, "a response that was never complete: %s body of %d bytes: %v", a.encoding, len(raw), err)
	}
	return m.check(a)
}

// unavailable counts an answer that failed visibly. A cluster's members go away under
// requests; one node in front of a healthy origin has no excuse, and it breaks the promise.
func (r *runner) unavailable(n *counts, a answer, format string, args ...any) error {
	n.unavailable.Add(1)
	if r.members == 1 {
		return broken(a, "one node, a healthy origin, and no whole answer: "+format, args...)
	}
	return nil
}

func decode(encoding string, raw []byte) ([]byte, error) {
	switch strings.ToLower(encoding) {
	case "", "identity":
		return raw, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		return io.ReadAll(zr)
	}
	return nil, fmt.Errorf("unknown coding %q", encoding)
}

// post sends an unsafe request. RFC 9111 section 4.4: once its non-error answer arrived, the
// cache has invalidated the URL, so a request sent afterwards gets the changed resource. The
// model holds the cluster to it when every member saw the same members before and after.
func (r *runner) post(c *cluster, o *origin, m *model, n *counts, op op) error {
	n.posts.Add(1)
	node := c.node(op.node)
	settled := c.converged()
	min := o.version(op.path) + 1 // at least what this request makes it
	h, target := op.target(op.path)
	req, err := http.NewRequest("POST", "http://"+node.HTTPAddr()+target, strings.NewReader("x=1"))
	if err != nil {
		return err
	}
	req.Host = h
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 400 || !settled || !c.converged() {
		return nil
	}
	m.acknowledged(ackedPurge{acked: time.Now(), min: map[string]int{op.path: min}, what: op.String()})
	return nil
}

// purgeAnswer is the API's (and the PURGE method's) answer.
type purgeAnswer struct {
	Purged  int      `json:"purged"`
	Acked   []string `json:"acked"`
	Missing []string `json:"missing"`
}

func (r *runner) purge(c *cluster, o *origin, m *model, n *counts, op op) error {
	n.purges.Add(1)
	node := c.node(op.node)
	// The content changes at the origin, then the purge goes out: from its acknowledgement
	// on, nothing older may be served.
	min := o.bump(op.matches())
	var req *http.Request
	if op.method {
		h, target := op.target(strings.TrimPrefix(op.value, "http://"+host))
		req, _ = http.NewRequest("PURGE", "http://"+node.HTTPAddr()+target, nil)
		req.Host = h
		if op.soft {
			req.Header.Set("Purge-Mode", "soft")
		}
	} else {
		body := map[string]any{"soft": op.soft}
		switch op.purgeKind {
		case "all":
			body["all"] = true
		case "key":
			body["key"] = op.value
		default:
			body[op.purgeKind] = op.spelled()
		}
		js, _ := json.Marshal(body)
		req, _ = http.NewRequest("POST", "http://"+node.AdminAddr()+"/purge", bytes.NewReader(js))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil // the member went away under it: nothing was acknowledged
	}
	defer resp.Body.Close()
	var ans purgeAnswer
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode >= 500 {
			return nil
		}
		return fmt.Errorf("%s: refused with %d: %s", op, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("%s: answer %q: %v", op, raw, err)
	}
	if len(ans.Missing) > 0 || len(ans.Acked) < c.size() || op.soft {
		// Soft purges promise revalidation, not absence: a soft-purged object may still be
		// served while it revalidates, so only hard purges bind the model.
		return nil
	}
	n.acked.Add(1)
	m.acknowledged(ackedPurge{acked: time.Now(), min: min, what: op.String()})
	return nil
}
