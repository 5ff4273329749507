package vip

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The fast failure detector's datagrams. Each is one small message carried by the
// Transport (in Shoal, one encrypted UDP datagram on the gossip port):
//
//	magic (1) kind (1) verdict (1) id (uvarint) from (uvarint length + bytes) target (same)
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
	target  string // probes and verdicts: the member in question
}

func (m message) append(b []byte) []byte {
	b = append(b, wireMagic, m.kind, m.verdict)
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
