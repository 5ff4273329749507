package ring

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/shoal-cdn/shoal/conf"
)

// Failure detection defaults (conf applies them: cluster.probe_interval, probe_timeout and
// suspicion_mult), tuned for a LAN where a round trip takes well under a millisecond, so
// a crashed node leaves every view in about 1-2 s (memberlist's LAN defaults take 5-10 s):
//
//   - probeInterval 200ms: each node probes one peer (round robin) every 200ms, so a dead node
//     is probed by someone within about one interval.
//   - probeTimeout 100ms: a direct ping gets 100ms, a hundred LAN round trips, before the
//     indirect pings through other members and a TCP ping get the rest of the interval. Only
//     when all of them fail does the prober mark the node suspect (about 0.2-0.4 s after the crash).
//   - suspicionMult 3: a suspect is declared dead after 3 × max(1, log10 N) × probeInterval,
//     i.e. 600ms below 10 nodes and 1.2s at 100, once other members confirm the suspicion; the
//     suspect itself refutes within that window if it is only slow. Without confirmations
//     (a lone accuser) the timeout starts at suspicionMaxTimeoutMult × that, 1.8s, and shrinks
//     as confirmations arrive, so one node with a bad link cannot evict a healthy one quickly.
//   - gossipInterval 100ms to 3 nodes: suspicion, death and metadata spread in a few hundred
//     milliseconds; a graceful leave is seen in about that time.
//   - pushPullInterval 10s: a full state exchange repairs anything gossip missed.
//   - awarenessMaxMultiplier 8 (memberlist's Lifeguard): a node that is itself starved of CPU
//     slows its own probing up to 8× instead of accusing healthy peers.
//
// Sum: about 0.2 s to the first failed probe round, 0.6 s of suspicion, 0.1-0.2 s of gossip:
// typically 1-1.5 s, 2.5 s in the worst case. These values assume a LAN; across a WAN the
// probe timeout must grow with the round trip.
const (
	suspicionMaxTimeoutMult = 3
	gossipInterval          = 100 * time.Millisecond
	gossipNodes             = 3
	retransmitMult          = 4
	pushPullInterval        = 10 * time.Second
	gossipToTheDeadTime     = 5 * time.Second
	streamTimeout           = 2 * time.Second
	awarenessMaxMultiplier  = 8
	defaultGossipPort       = 7946
)

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// memberlistConfig turns the cluster section into a memberlist configuration.
func (r *Ring) memberlistConfig() (*memberlist.Config, error) {
	c := memberlist.DefaultLANConfig()
	c.Name = r.selfName
	def := conf.DefaultCluster() // the zero values of a section built in code mean these
	c.ProbeInterval = orDefault(r.cluster.ProbeInterval.D(), def.ProbeInterval.D())
	c.ProbeTimeout = orDefault(r.cluster.ProbeTimeout.D(), def.ProbeTimeout.D())
	c.SuspicionMult = max(r.cluster.SuspicionMult, 1)
	if r.cluster.SuspicionMult == 0 {
		c.SuspicionMult = def.SuspicionMult
	}
	c.SuspicionMaxTimeoutMult = suspicionMaxTimeoutMult
	c.GossipInterval = gossipInterval
	c.GossipNodes = gossipNodes
	c.RetransmitMult = retransmitMult
	c.PushPullInterval = pushPullInterval
	c.GossipToTheDeadTime = gossipToTheDeadTime
	c.TCPTimeout = streamTimeout
	c.AwarenessMaxMultiplier = awarenessMaxMultiplier

	host, port, err := splitHostPort(r.cluster.Bind, defaultGossipPort)
	if err != nil {
		return nil, fmt.Errorf("cluster.bind %q: %w", r.cluster.Bind, err)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	c.BindAddr, c.BindPort = host, port
	c.AdvertisePort = port
	if r.cluster.Advertise != "" {
		host, port, err := splitHostPort(r.cluster.Advertise, c.BindPort)
		if err != nil {
			return nil, fmt.Errorf("cluster.advertise %q: %w", r.cluster.Advertise, err)
		}
		c.AdvertiseAddr, c.AdvertisePort = host, port
	}

	if r.cluster.Secret != "" {
		c.SecretKey = gossipKey(r.cluster.Secret)
		if len(r.cluster.AcceptSecrets) > 0 {
			// A rolling rotation: messages are encrypted with the secret, and those of
			// members still (or already) on an accepted one are decrypted too.
			var accepted [][]byte
			for _, s := range r.cluster.AcceptSecrets {
				accepted = append(accepted, gossipKey(s))
			}
			kr, err := memberlist.NewKeyring(accepted, c.SecretKey)
			if err != nil {
				return nil, fmt.Errorf("cluster.accept_secret_files: %w", err)
			}
			c.Keyring = kr
		}
	}
	c.Delegate = delegate{r}
	c.Events = delegate{r}
	c.Conflict = delegate{r}
	c.Merge = delegate{r}
	c.DeadNodeReclaimTime = deadNodeReclaimTime
	c.Logger = log.New(slogWriter{r.opts.Logger.With("component", "memberlist")}, "", 0)
	return c, nil
}

// splitHostPort accepts "host:port", ":port" and a bare host (which gets defaultPort).
func splitHostPort(addr string, defaultPort int) (string, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		if strings.Contains(err.Error(), "missing port") {
			return strings.Trim(addr, "[]"), defaultPort, nil
		}
		return "", 0, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number in 0..65535", portText)
	}
	return host, port, nil
}

// gossipKey derives the AES-256 key from the secret file's text, so an operator may put any
// phrase in the file. Surrounding whitespace (the trailing newline of `echo secret > file`)
// is not part of the secret.
func gossipKey(secret string) []byte {
	sum := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	return sum[:]
}

// slogWriter receives memberlist's log lines ("[WARN] memberlist: ...") and logs them at the
// matching slog level.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	line := string(bytes.TrimSpace(p))
	level := slog.LevelInfo
	if tag, rest, ok := strings.Cut(line, " "); ok && strings.HasPrefix(tag, "[") {
		switch tag {
		case "[DEBUG]":
			level = slog.LevelDebug
		case "[WARN]":
			level = slog.LevelWarn
		case "[ERR]", "[ERROR]":
			level = slog.LevelError
		}
		line = rest
	}
	w.log.Log(context.Background(), level, line)
	return len(p), nil
}
