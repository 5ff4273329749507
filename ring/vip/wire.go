package vip

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The fast failure detector's datagrams. Each is one small message carried by the
// Transport (in Shoal, one encrypted UDP datagram on the gossip port):
//
//	magic (1) kind (1) alive (1) id (uvarint) from (uvarint length + bytes) target (same)
//
// Any message from a member proves that member alive at its arrival; the kinds say what the
// receiver must do besides.
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
)

var kindNames = [...]string{kindPing: "ping", kindPong: "pong", kindProbe: "probe", kindVerdict: "verdict"}

// message is one decoded datagram.
type message struct {
	kind   byte
	alive  bool   // verdicts: the witness reached target
	id     uint64 // probes and verdicts: the request being answered
	from   string // the sender's member name
	target string // probes and verdicts: the member in question
}

func (m message) append(b []byte) []byte {
	alive := byte(0)
	if m.alive {
		alive = 1
	}
	b = append(b, wireMagic, m.kind, alive)
	b = binary.AppendUvarint(b, m.id)
	b = binary.AppendUvarint(b, uint64(len(m.from)))
	b = append(b, m.from...)
	b = binary.AppendUvarint(b, uint64(len(m.target)))
	return append(b, m.target...)
}

var errShort = errors.New("truncated")

// decodeMessage parses a datagram from the network; it never panics, whatever b holds.
func decodeMessage(b []byte) (message, error) {
	if len(b) < 3 || b[0] != wireMagic {
		return message{}, errors.New("vip: detector message: bad header")
	}
	m := message{kind: b[1], alive: b[2] == 1}
	if m.kind < kindPing || m.kind > kindVerdict || b[2] > 1 {
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
	if len(b) != 0 || m.from == "" {
		return message{}, errors.New("vip: detector message: trailing bytes or no sender")
	}
	return m, nil
}

func readName(b []byte) (string, []byte, error) {
	l, n := binary.Uvarint(b)
	if n <= 0 || l > maxNameLen || uint64(len(b)-n) < l {
		return "", nil, errShort
	}
	return string(b[n : n+int(l)]), b[n+int(l):], nil
}
