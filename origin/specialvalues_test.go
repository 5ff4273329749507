package origin

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/internal/testenv"
)

// poolFromYAML loads a pool the way a node does: pool keys (indented four spaces) and servers
// through conf.Parse, then NewPool.
func poolFromYAML(t *testing.T, keys string, urls ...string) *Pool {
	t.Helper()
	var b strings.Builder
	b.WriteString("listen: {http: \":8080\"}\norigins:\n  web:\n")
	b.WriteString(keys)
	if len(urls) > 0 {
		b.WriteString("    servers:\n")
	}
	for _, u := range urls {
		fmt.Fprintf(&b, "      - url: %q\n", u)
	}
	b.WriteString("routes: [{match: {path_prefix: /}, origin: web}]\n")
	cfg, err := conf.Parse([]byte(b.String()), "shoal.yaml", "")
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	p, err := NewPool(cfg.Origins["web"], Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// specialValues is every special value examples/shoal.yaml documents for a pool key, with a
// check of the behaviour its line promises, on a pool loaded from YAML as a node loads it.
var specialValues = map[string]func(t *testing.T){
	"retries": func(t *testing.T) {
		for _, v := range []string{"-1", "0"} {
			o := testenv.StartBadOrigin(t)
			p := poolFromYAML(t, "    balance: first\n    retries: "+v+"\n", "http://"+closedPort(t), o.URL)
			if _, _, _, err := doGet(t, p, "/", Target{Idempotent: true}); !isKind(err, KindConnect) || o.Count("/") != 0 {
				t.Errorf("retries: %s: err %v, second server saw %d; want exactly one attempt", v, err, o.Count("/"))
			}
		}
		o := testenv.StartBadOrigin(t)
		p := poolFromYAML(t, "    balance: first\n", "http://"+closedPort(t), o.URL)
		if _, _, _, err := doGet(t, p, "/", Target{Idempotent: true}); err != nil || o.Count("/") != 1 {
			t.Errorf("retries left out: err %v, second server saw %d; want the retry there", err, o.Count("/"))
		}
	},
	"passive.errors": func(t *testing.T) {
		for _, v := range []string{"-1", "0"} {
			p := poolFromYAML(t, "    retries: 0\n    passive: {errors: "+v+"}\n", "http://"+closedPort(t), "http://"+closedPort(t))
			for range 12 {
				doGet(t, p, "/", Target{Idempotent: true})
			}
			for _, s := range p.Snapshot().Servers {
				if s.Ejected || s.State != StateUp {
					t.Errorf("passive.errors: %s: a server was ejected: %+v", v, s)
				}
			}
		}
	},
	"health.timeout": func(t *testing.T) { // 0 means the interval
		p := poolFromYAML(t, "    health: {path: /h, interval: 3s, timeout: 0s}\n", "http://127.0.0.1:1")
		if p.cfg.health.timeout != 3*time.Second {
			t.Errorf("health.timeout: 0s: %s, want the interval 3s", p.cfg.health.timeout)
		}
	},
	"servers[].weight": func(t *testing.T) {
		drained, live := testenv.StartBadOrigin(t), testenv.StartBadOrigin(t)
		p := poolFromYAML(t, fmt.Sprintf("    servers:\n      - {url: %q, weight: 0}\n      - {url: %q}\n", drained.URL, live.URL))
		for range 10 {
			doGet(t, p, "/", Target{Idempotent: true})
		}
		if drained.Count("/") != 0 || live.Count("/") != 10 {
			t.Errorf("weight: 0: drained server got %d, the other %d; want 0 and 10", drained.Count("/"), live.Count("/"))
		}
	},
	"servers[].id": func(t *testing.T) {
		p := poolFromYAML(t, "    sticky: {cookie: S}\n", "http://192.0.2.1:80")
		if id := p.servers[0].cfg.id; id == "" || strings.Contains(id, "192.0.2.1") {
			t.Errorf(`id: "": derived id %q, want an opaque one`, id)
		}
	},
	"health.path": func(t *testing.T) {
		o := testenv.StartBadOrigin(t)
		p := poolFromYAML(t, "    health: {path: \"\", interval: 50ms, timeout: 20ms}\n", o.URL)
		p.Start()
		time.Sleep(200 * time.Millisecond)
		if n := len(o.Requests()); n != 0 || !p.Healthy() {
			t.Errorf(`health.path: "": origin saw %d probes, healthy %v; want none and up`, n, p.Healthy())
		}
	},
	"health.expect_body": func(t *testing.T) {
		o := testenv.StartBadOrigin(t)
		o.Script("/h", testenv.Script{Body: []byte("anything at all")})
		p := poolFromYAML(t, "    health: {path: /h, expect_body: \"\"}\n", o.URL)
		if ok, detail := p.probe(p.servers[0]); !ok {
			t.Errorf(`health.expect_body: "": probe failed: %s`, detail)
		}
	},
	"health.expect_status": func(t *testing.T) {
		o := testenv.StartBadOrigin(t)
		o.Script("/h", testenv.Script{Status: 204})
		o.Script("/dir", testenv.Script{Status: 301, Header: testenv.Fields("Location", "/dir/")})
		o.Script("/broken", testenv.Script{Status: 503})
		for path, want := range map[string]bool{"/h": true, "/dir": true, "/broken": false} {
			p := poolFromYAML(t, "    health: {path: "+path+", expect_status: 0}\n", o.URL)
			if ok, detail := p.probe(p.servers[0]); ok != want {
				t.Errorf("health.expect_status: 0 on %s: probe ok=%v (%s), want %v (any 2xx or 3xx)", path, ok, detail, want)
			}
		}
	},
	"health.host": func(t *testing.T) {
		o := testenv.StartBadOrigin(t)
		p := poolFromYAML(t, "    health: {path: /h, host: \"\"}\n", o.URL)
		p.probe(p.servers[0])
		if reqs := o.Requests(); len(reqs) != 1 || reqs[0].Get("Host") != o.Addr {
			t.Errorf(`health.host: "": probe requests %+v, want Host %s`, reqs, o.Addr)
		}
	},
	"sticky.cookie": func(t *testing.T) {
		o := testenv.StartBadOrigin(t)
		p := poolFromYAML(t, "    sticky: {cookie: \"\"}\n", o.URL)
		if _, _, res, err := doGet(t, p, "/", Target{Idempotent: true}); err != nil || res.SetCookie != "" {
			t.Errorf(`sticky.cookie: "": Set-Cookie %q, err %v; want none`, res.SetCookie, err)
		}
	},
	"sticky.max_age": func(t *testing.T) {
		o := testenv.StartBadOrigin(t)
		p := poolFromYAML(t, "    sticky: {cookie: S, max_age: 0s}\n", o.URL)
		_, _, res, err := doGet(t, p, "/", Target{Idempotent: true})
		if err != nil || res.SetCookie == "" || strings.Contains(res.SetCookie, "Max-Age") {
			t.Errorf("sticky.max_age: 0s: Set-Cookie %q, err %v; want a session cookie", res.SetCookie, err)
		}
	},
	"host": func(t *testing.T) {
		o := testenv.StartBadOrigin(t)
		p := poolFromYAML(t, "    host: \"\"\n", o.URL)
		doGet(t, p, "/", Target{Idempotent: true})
		if reqs := o.Requests(); len(reqs) != 1 || reqs[0].Get("Host") != "www.example.com" {
			t.Errorf(`host: "": origin saw %+v, want the client's Host`, reqs)
		}
	},
	"max_conns": func(t *testing.T) {
		const n = 20
		var inFlight, peak atomic.Int64
		all := make(chan struct{})
		var once sync.Once
		origin := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
			if v := inFlight.Add(1); v > peak.Load() {
				peak.Store(v)
				if v == n {
					once.Do(func() { close(all) })
				}
			}
			select {
			case <-all:
			case <-time.After(5 * time.Second):
			}
			inFlight.Add(-1)
		})
		p := poolFromYAML(t, "    max_conns: 0\n", origin.URL)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				doGet(t, p, "/", Target{Idempotent: true})
			}()
		}
		wg.Wait()
		if peak.Load() != n {
			t.Errorf("max_conns: 0: at most %d requests in flight at once, want all %d (unlimited)", peak.Load(), n)
		}
	},
	"slow_start": func(t *testing.T) {
		p := poolFromYAML(t, "    slow_start: 0s\n", "http://192.0.2.1:80")
		setProbe(p, 0, false)
		setProbe(p, 0, true) // just came back
		if w := p.Snapshot().Servers[0].EffectiveWeight; w != 1 {
			t.Errorf("slow_start: 0s: effective weight %v right after coming back, want the full 1", w)
		}
	},
	"idle_timeout": func(t *testing.T) {
		p := poolFromYAML(t, "    idle_timeout: 0s\n", "http://192.0.2.1:80")
		if p.cfg.idleTTL != conf.DefaultPool().IdleTimeout.D() {
			t.Errorf("idle_timeout: 0s: %v, want the default %v", p.cfg.idleTTL, conf.DefaultPool().IdleTimeout)
		}
	},
	"max_queue": func(t *testing.T) {
		p := poolFromYAML(t, "    max_queue: 0\n", "http://192.0.2.1:80")
		if p.cfg.maxQueue != conf.DefaultPool().MaxQueue {
			t.Errorf("max_queue: 0: %d, want the default %d", p.cfg.maxQueue, conf.DefaultPool().MaxQueue)
		}
	},
}

func isKind(err error, kind string) bool {
	var oe *Error
	return errors.As(err, &oe) && oe.Kind == kind
}

// Issue 13, input 7: every special value (0, -1, "") that examples/shoal.yaml documents for a
// pool key does what its line says. The file is walked, so a special value documented later
// without a check here fails this test.
func TestPool_specialValuesOfTheReferenceConfig(t *testing.T) {
	documented := documentedSpecialValues(t, "../examples/shoal.yaml")
	if len(documented) < 10 {
		t.Fatalf("found only %v in examples/shoal.yaml: the walker is broken", documented)
	}
	for _, key := range documented {
		check, ok := specialValues[key]
		if !ok {
			t.Errorf("examples/shoal.yaml documents a special value of origins.*.%s that no check covers", key)
			continue
		}
		t.Run(key, check)
	}
	for _, key := range []string{"idle_timeout", "max_queue"} { // 0 means the default
		t.Run(key, specialValues[key])
	}
}

var specialComment = regexp.MustCompile(`\b0 means|-1|empty means|\b0 or |^\s*#?\s*"" |default (derived|the)`)

// documentedSpecialValues lists the pool keys (dotted below the pool, "servers[]." for server
// keys) whose line in the origins section of the reference file documents a special value.
func documentedSpecialValues(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type level struct {
		indent int
		key    string
	}
	var stack []level
	var keys []string
	inOrigins := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		code, comment, _ := strings.Cut(line, "#")
		if strings.TrimSpace(code) == "" {
			continue
		}
		indent := len(code) - len(strings.TrimLeft(code, " "))
		if indent == 0 {
			inOrigins = strings.HasPrefix(code, "origins:")
			stack = stack[:0]
			continue
		}
		if !inOrigins {
			continue
		}
		item := strings.TrimLeft(code, " ")
		if strings.HasPrefix(item, "- ") {
			item = strings.TrimPrefix(item, "- ")
			indent += 2
		}
		key, _, ok := strings.Cut(item, ":")
		if !ok {
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, level{indent, strings.TrimSpace(key)})
		if len(stack) < 2 || !specialComment.MatchString(comment) {
			continue
		}
		var names []string
		for _, l := range stack[1:] { // below the pool name
			names = append(names, l.key)
		}
		name := strings.Join(names, ".")
		name = strings.Replace(name, "servers.", "servers[].", 1)
		keys = append(keys, name)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}
