package vip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// The fast failure detector's datagrams. Each is one small message carried by the
// Transport (in Shoal, one encrypted UDP datagram on the gossip port):
//
//	magic (1) kind (1) verdict (1) id (uvarint) from (uvarint length + bytes) target (same)
//	[claims: flags (1) [seq (uvarint)] count (uvarint) count × (family 4|6 (1), address (4|16))]
//
// Any message from a member proves that member alive at its arrival; the kinds say what the
// receiver must do besides. The claims trailer (pings and pongs) lists the VIPs the sender
// holds at the moment it sends, at most maxClaims of them; flag claimsMore says it holds
// more than it lists, which the receiver must read as "holds every VIP". A message without
// the trailer (from a node that predates it) says nothing about what its sender holds. A
// pong echoes the id of the ping it answers, so the pinger can tell an answer taken after
// a given moment from one that was already in flight.
//
// Flag claimsSeq says a sequence number follows the flags: it grows with every ping and pong
// its sender sends, across restarts too (it starts at the sender's start time in
// nanoseconds), so a receiver can drop a claim that a later one from the same sender
// overtook on the way (UDP reorders). A trailer without it (an older sender) is taken as
// the latest, as before.
const (
	wireMagic = 0x56 // 'V'
	// kindPing is a heartbeat (holder to the member next in line for its VIPs) or a probe;
	// the receiver answers kindPong at once.
	kindPing byte = 1
	kindPong byte = 2
	// kindProbe asks a witness whether it can reach target: the witness pings target for
	// the probe window and answers kindVerdict with the request's id.
	kindProbe   byte = 3
	kindVerdict byte = 4

	maxNameLen = 255 // memberlist node names are short; anything longer is not ours
	// maxClaims bounds the claims a message lists: the trailer of 32 IPv6 addresses is 556
	// bytes with the longest sequence number (10 bytes), which with the longest sender name
	// (pings and pongs have no target) leaves the datagram at 827 bytes, under the ring's
	// 1 KiB direct-message limit.
	maxClaims = 32
	// maxMessage bounds an encoded message: the ring's direct messages are at most 1 KiB
	// (ring.MaxBroadcastSize) with a kind byte of their own. A leaving node's pings and
	// pongs name it twice, so the longest name with 32 IPv6 claims would not fit: append
	// lists fewer and says more.
	maxMessage = 1024 - 1
	claimsMore = 1 // flag: the sender holds more VIPs than it lists
	claimsSeq  = 2 // flag: the sender's sequence number follows the flags
)

// What a witness found about a target; the zero value is silence.
const (
	// verdictSilent: no pong within the probe window and no answer to the knock either
	// (host down, cable cut, or every packet lost): only a long silence makes it count.
	verdictSilent byte = 0
	// verdictAlive: it answered a ping, or its kernel accepted the knock (the process
	// exists, however starved of CPU).
	verdictAlive byte = 1
	// verdictRefused: its kernel refused the knock: the port is closed, the process is gone.
	verdictRefused byte = 2
)

var kindNames = [...]string{kindPing: "ping", kindPong: "pong", kindProbe: "probe", kindVerdict: "verdict"}

// message is one decoded datagram.
type message struct {
	kind    byte
	verdict byte   // verdicts: what the witness found
	id      uint64 // probes and verdicts: the request being answered
	from    string // the sender's member name
	target  string // probes and verdicts: the member in question; pings and pongs: the sender when leaving
	// hasClaims says the message carries the trailer: claims (and more) are what the
	// sender held when it sent it. Without it they say nothing.
	hasClaims bool
	more      bool // the sender holds VIPs beyond claims: read as every VIP
	claims    []netip.Addr
	// seq orders the sender's pings and pongs (claims trailer only); 0 when it sent none.
	seq uint64
}

// leaving reports whether the sender of ping or pong m is leaving the cluster (draining): it
// keeps what it holds only until its peers have taken it (Manager.Leave). A ping or pong
// names its own sender as target to say so; older senders leave target empty on pings and
// pongs, and older receivers ignore it there, so the mark needs no flag their decoders
// would refuse.
func (m message) leaving() bool {
	return (m.kind == kindPing || m.kind == kindPong) && m.target != "" && m.target == m.from
}

// holds reports whether the message says its sender holds vip.
func (m message) holds(vip netip.Addr) bool {
	return m.hasClaims && (m.more || slices.Contains(m.claims, vip))
}

func (m message) append(b []byte) []byte {
	start := len(b)
	b = append(b, wireMagic, m.kind, m.verdict)
	b = binary.AppendUvarint(b, m.id)
	b = binary.AppendUvarint(b, uint64(len(m.from)))
	b = append(b, m.from...)
	b = binary.AppendUvarint(b, uint64(len(m.target)))
	b = append(b, m.target...)
	if !m.hasClaims {
		return b
	}
	claims, flags := m.claims, byte(0)
	if m.more || len(claims) > maxClaims {
		claims, flags = claims[:min(len(claims), maxClaims)], claimsMore
	}
	if m.seq != 0 {
		flags |= claimsSeq
	}
	// What the claims may take: the message so far, the flags, the sequence number and the
	// count (its length for the whole list, which can only shrink) stay under maxMessage.
	room := maxMessage - (len(b) - start) - 1 - uvarintLen(uint64(len(claims)))
	if m.seq != 0 {
		room -= uvarintLen(m.seq)
	}
	for i, a := range claims {
		if room -= 1 + a.BitLen()/8; room < 0 {
			claims, flags = claims[:i], flags|claimsMore
			break
		}
	}
	b = append(b, flags)
	if m.seq != 0 {
		b = binary.AppendUvarint(b, m.seq)
	}
	b = binary.AppendUvarint(b, uint64(len(claims)))
	for _, a := range claims {
		if a.Is4() {
			b = append(b, 4)
		} else {
			b = append(b, 6)
		}
		b = append(b, a.AsSlice()...)
	}
	return b
}

var errShort = errors.New("truncated")

// decodeMessage parses a datagram from the network; it never panics, whatever b holds.
func decodeMessage(b []byte) (message, error) {
	if len(b) < 3 || b[0] != wireMagic {
		return message{}, errors.New("vip: detector message: bad header")
	}
	m := message{kind: b[1], verdict: b[2]}
	if m.kind < kindPing || m.kind > kindVerdict || m.verdict > verdictRefused {
		return message{}, fmt.Errorf("vip: detector message: unknown kind %d or flag %d", b[1], b[2])
	}
	b = b[3:]
	id, n := binary.Uvarint(b)
	if n <= 0 {
		return message{}, fmt.Errorf("vip: detector message: id: %w", errShort)
	}
	m.id, b = id, b[n:]
	var err error
	if m.from, b, err = readName(b); err != nil {
		return message{}, fmt.Errorf("vip: detector message: from: %w", err)
	}
	if m.target, b, err = readName(b); err != nil {
		return message{}, fmt.Errorf("vip: detector message: target: %w", err)
	}
	if len(b) > 0 {
		if m.claims, m.more, m.seq, b, err = readClaims(b); err != nil {
			return message{}, fmt.Errorf("vip: detector message: claims: %w", err)
		}
		m.hasClaims = true
	}
	if len(b) != 0 || m.from == "" {
		return message{}, errors.New("vip: detector message: trailing bytes or no sender")
	}
	return m, nil
}

// readClaims parses the claims trailer: flags, the sequence number if flagged, count, then
// each address with its family.
func readClaims(b []byte) (claims []netip.Addr, more bool, seq uint64, rest []byte, err error) {
	flags := b[0]
	if flags&^(claimsMore|claimsSeq) != 0 {
		return nil, false, 0, nil, fmt.Errorf("unknown flags %#x", flags)
	}
	more, b = flags&claimsMore != 0, b[1:]
	if flags&claimsSeq != 0 {
		var l int
		if seq, l = binary.Uvarint(b); l <= 0 || seq == 0 {
			return nil, false, 0, nil, fmt.Errorf("sequence number: %w", errShort)
		}
		b = b[l:]
	}
	n, l := binary.Uvarint(b)
	if l <= 0 || n > maxClaims {
		return nil, false, 0, nil, fmt.Errorf("count: %w", errShort)
	}
	b = b[l:]
	for range n {
		if len(b) == 0 {
			return nil, false, 0, nil, errShort
		}
		size := 0
		switch b[0] {
		case 4:
			size = 4
		case 6:
			size = 16
		default:
			return nil, false, 0, nil, fmt.Errorf("address family %d", b[0])
		}
		if len(b) < 1+size {
			return nil, false, 0, nil, errShort
		}
		a, _ := netip.AddrFromSlice(b[1 : 1+size])
		claims, b = append(claims, a), b[1+size:]
	}
	return claims, more, seq, b, nil
}

func readName(b []byte) (string, []byte, error) {
	l, n := binary.Uvarint(b)
	if n <= 0 || l > maxNameLen || uint64(len(b)-n) < l {
		return "", nil, errShort
	}
	return string(b[n : n+int(l)]), b[n+int(l):], nil
}

// uvarintLen is the length of v's uvarint encoding.
func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}
