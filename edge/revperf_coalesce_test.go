package edge

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/httpcache"
	"github.com/shoal-cdn/shoal/internal/testenv"
)

// Requests that keep arriving while a fill runs and right after it ends cost one origin
// fetch per object: each either joins the fill or finds the object it stored.
func TestNode_missesAroundAFillsEndFetchOnce(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, inlineRoute(o.URL, "5s"), Options{})
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	body := strings.Repeat("b", 2<<10)
	const paths, clients, each = 40, 48, 3
	for i := range paths {
		o.Script(fmt.Sprintf("/r%d.css", i), testenv.Script{Delay: time.Millisecond, Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte(body)})
	}
	for i := range paths {
		path := fmt.Sprintf("/r%d.css", i)
		var wg sync.WaitGroup
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(c) * 40 * time.Microsecond)
				for range each {
					req, _ := http.NewRequest("GET", "http://"+n.HTTPAddr()+path, nil)
					req.Host = "www.example.com"
					resp, err := client.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					got, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil || string(got) != body {
						t.Errorf("%s: %d bytes, err %v", path, len(got), err)
					}
				}
			}()
		}
		wg.Wait()
		if got := o.Count(path); got != 1 {
			t.Errorf("%s: origin saw %d requests, want 1", path, got)
		}
	}
}

// A request whose lookup missed just before a fill stored its object, and whose Join comes
// just after that fill ended, is answered without a second origin fetch: the lookup's miss
// and the Join are two steps, and the stored object became visible between them. This is
// that request, made deterministic: the lookup serveCache makes on a miss, given to fill
// after the first request's fill ended.
func TestNode_lateJoinAfterAStoredFillFetchesNothing(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, inlineRoute(o.URL, "5s"), Options{})
	body := strings.Repeat("j", 1<<10)
	o.Script("/late.css", testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte(body)})
	if first := strictGet(t, n.HTTPAddr(), "/late.css"); first.err != nil || first.body != body {
		t.Fatalf("first: %d bytes, err %v", len(first.body), first.err)
	}
	n.bg.Wait() // the fill ended (end ran)

	var req fieldList
	req.Reset()
	req.setMethod("GET")
	req.SetRequestURI("/late.css")
	req.SetHost("www.example.com")
	req.setProtocol("HTTP/1.1")
	resp := &h3Response{}
	resp.Reset()
	x := &exchange{req: &req, resp: resp, remote: netip.MustParseAddr("127.0.0.1"), host: req.host, hosts: 1}
	rt := n.rt.Load()
	key := "http://www.example.com/late.css"
	l := &lookup{rt: rt, r: rt.match([]byte("GET"), "www.example.com", "/late.css"), url: key, key: key,
		req: httpcache.Request{Method: "GET"}, start: time.Now(), owned: true, status: newCacheOutcome(n.name)}
	l.status.serve(fwdURIMiss)
	n.fill(x, l, false)
	got := string(resp.body)
	if resp.stream != nil { // streamed from the fill's reader
		b, err := io.ReadAll(resp.stream)
		resp.CloseBodyStream()
		if err != nil {
			t.Fatal(err)
		}
		got = string(b)
	}
	if resp.head.status != http.StatusOK || got != body {
		t.Errorf("late request: %d, %d bytes", resp.head.status, len(got))
	}
	if got := o.Count("/late.css"); got != 1 {
		t.Errorf("origin saw %d requests, want 1", got)
	}
}
