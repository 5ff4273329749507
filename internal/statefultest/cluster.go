package statefultest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/edge"
)

const (
	host  = "www.test"
	token = "stateful-purge-token-0123456789"
)

// cluster is the set of live members of one run. Member 0 stays for the whole run (new
// members join through a live member); the others may leave or be killed.
type cluster struct {
	disk   bool // members have a disk tier (cache.disk) under dir
	dir    string
	origin string

	mu      sync.Mutex
	live    []*edge.Node
	started int // members started so far, for names
}

func newCluster(originURL string, size int, disk bool) (*cluster, error) {
	dir, err := os.MkdirTemp("", "shoal-stateful-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, origin: originURL, disk: disk}
	for _, f := range []struct{ name, value string }{{"gossip.key", "stateful-cluster-secret-0123456789"}, {"purge.token", token}} {
		if err := os.WriteFile(filepath.Join(c.dir, f.name), []byte(f.value), 0o600); err != nil {
			return nil, err
		}
	}
	for range size {
		if err := c.join(); err != nil {
			c.stop()
			return nil, err
		}
	}
	if err := c.waitConverged(len(c.live)); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

func (c *cluster) config(name, join string) string {
	joinList := "[]"
	if join != "" {
		joinList = "[" + join + "]"
	}
	disk := ""
	if c.disk {
		// Every object memory evicts or refuses goes to disk (admit_frequency -1).
		disk = fmt.Sprintf(", disk: {path: %s, size: 8MiB, admit_frequency: -1}", filepath.Join(c.dir, "disk-"+name))
	}
	return fmt.Sprintf(`node: {name: %s, region: local}
listen: {http: "127.0.0.1:0", admin: "127.0.0.1:0", peer: "127.0.0.1:0"}
cache: {memory: 1MiB, max_object_size: 512KiB, fill_timeout: 5s, hot_local: true, hot_ttl: 5s%s}
cluster: {bind: "127.0.0.1:0", join: %s, secret_file: %s}
compression: {encodings: [zstd, gzip]}
purge: {token_file: %s, allow: [127.0.0.0/8], timeout: 2s}
origins: {o: {servers: [{url: %q}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
`, name, disk, joinList, filepath.Join(c.dir, "gossip.key"), filepath.Join(c.dir, "purge.token"), c.origin)
}

// join starts a new member, joined to a live one.
func (c *cluster) join() error {
	c.mu.Lock()
	c.started++
	name := fmt.Sprintf("node-%d", c.started)
	join := ""
	if len(c.live) > 0 {
		join = c.live[0].Ring().GossipAddr()
	}
	c.mu.Unlock()
	if c.disk {
		if err := os.Mkdir(filepath.Join(c.dir, "disk-"+name), 0o700); err != nil {
			return err
		}
	}
	cfg, err := conf.Parse([]byte(c.config(name, join)), name+".yaml", c.dir)
	if err != nil {
		return err
	}
	n, err := edge.New(cfg, edge.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		return err
	}
	c.mu.Lock()
	c.live = append(c.live, n)
	c.mu.Unlock()
	return nil
}

// remove takes member i (never member 0) out: gracefully, or killed: its gossip stops
// without a leave message and its listeners close under the requests in flight.
func (c *cluster) remove(i int, kill bool) {
	c.mu.Lock()
	if len(c.live) <= 2 {
		c.mu.Unlock()
		return // keep a cluster
	}
	i = 1 + i%(len(c.live)-1)
	n := c.live[i]
	c.live = slices.Delete(c.live, i, i+1)
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if kill {
		n.Ring().Shutdown()
		cancel()
	}
	n.Shutdown(ctx)
}

// node returns live member i modulo their number.
func (c *cluster) node(i int) *edge.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live[i%len(c.live)]
}

func (c *cluster) members() []*edge.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.live)
}

func (c *cluster) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.live)
}

// waitConverged waits until every live member sees want alive members.
func (c *cluster) waitConverged(want int) error {
	deadline := time.Now().Add(15 * time.Second)
	c.mu.Lock()
	live := slices.Clone(c.live)
	c.mu.Unlock()
	for _, n := range live {
		for alive(n) != want {
			if time.Now().After(deadline) {
				return fmt.Errorf("%s sees %d alive members, want %d", n.Ring().Self().Name, alive(n), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// converged reports whether every live member sees exactly the live members, now.
func (c *cluster) converged() bool {
	live := c.members()
	for _, n := range live {
		if alive(n) != len(live) {
			return false
		}
	}
	return true
}

func alive(n *edge.Node) int {
	k := 0
	for _, m := range n.Ring().Members() {
		if m.State == "alive" {
			k++
		}
	}
	return k
}

func (c *cluster) stop() {
	c.mu.Lock()
	live := c.live
	c.live = nil
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, n := range live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			n.Shutdown(ctx)
		}()
	}
	wg.Wait()
	os.RemoveAll(c.dir)
}
