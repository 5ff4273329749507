package ring

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// metaVersion is the first byte of encoded metadata. Version 1 readers ignore bytes after the
// fields they know, so later versions may append fields without a flag day.
const metaVersion = 1

// metaMaxSize is memberlist's limit on node metadata (memberlist.MetaMaxSize).
const metaMaxSize = 512

var errMetaTooLarge = errors.New("metadata too large")

// The state byte on the wire. Unknown values decode as not ready, so a state added later
// never makes an older node route keys to a member that should own none.
var stateCodes = []State{StateAlive, StateDraining, StateNotReady, StateLeaving}

// VIP encodings: a parseable prefix or address travels as raw bytes (6 or 18 bytes instead
// of up to 43 characters), anything else as text.
const (
	vipText = iota
	vipPrefix4
	vipPrefix6
	vipAddr4
	vipAddr6
)

// encodeMeta renders everything but the name (memberlist carries it) compactly:
// version, state, weight, region, peer address, public address, VIPs, origins down plus one,
// vnodes (each appended later: older readers ignore what follows the fields they know;
// absent or 0 means unknown).
func encodeMeta(m Member) ([]byte, error) {
	buf := make([]byte, 0, 64)
	buf = append(buf, metaVersion, stateCode(m.State))
	buf = binary.AppendUvarint(buf, uint64(max(m.Weight, 0)))
	buf = appendString(buf, m.Region)
	buf = appendString(buf, m.PeerAddr)
	buf = appendString(buf, m.PublicAddr)
	buf = binary.AppendUvarint(buf, uint64(len(m.VIPs)))
	for _, v := range m.VIPs {
		buf = appendVIP(buf, v)
	}
	buf = binary.AppendUvarint(buf, uint64(max(m.OriginsDown, -1)+1)) // 0: unknown
	buf = binary.AppendUvarint(buf, uint64(max(m.VNodes, 0)))         // 0: unknown
	if len(buf) > metaMaxSize {
		return nil, fmt.Errorf("%w: %d bytes for node %q, memberlist allows %d (shorten the region or addresses, or list fewer VIPs)",
			errMetaTooLarge, len(buf), m.Name, metaMaxSize)
	}
	return buf, nil
}

func stateCode(s State) byte {
	for i, known := range stateCodes {
		if s == known {
			return byte(i)
		}
	}
	return byte(len(stateCodes)) // decodes as not ready
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func appendVIP(buf []byte, v string) []byte {
	if p, err := netip.ParsePrefix(v); err == nil {
		if p.Addr().Is4() {
			a := p.Addr().As4()
			return append(append(buf, vipPrefix4), append(a[:], byte(p.Bits()))...)
		}
		a := p.Addr().As16()
		return append(append(buf, vipPrefix6), append(a[:], byte(p.Bits()))...)
	}
	if a, err := netip.ParseAddr(v); err == nil && a.Zone() == "" {
		if a.Is4() {
			b := a.As4()
			return append(append(buf, vipAddr4), b[:]...)
		}
		b := a.As16()
		return append(append(buf, vipAddr6), b[:]...)
	}
	return appendString(append(buf, vipText), v)
}

// canonicalVIP is the form a VIP has after a round trip through the metadata, so a node
// compares its own VIPs and its peers' alike.
func canonicalVIP(v string) string {
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.String()
	}
	if a, err := netip.ParseAddr(v); err == nil && a.Zone() == "" {
		return a.String()
	}
	return v
}

// decodeMeta parses metadata gossiped by the member called name. It never panics: the bytes
// come from the network.
func decodeMeta(name string, buf []byte) (Member, error) {
	d := metaDecoder{buf: buf}
	m := Member{Name: name}
	if version := d.byte(); d.err == nil && version != metaVersion {
		return Member{}, fmt.Errorf("metadata version %d, want %d", version, metaVersion)
	}
	code := int(d.byte())
	m.State = StateNotReady
	if code < len(stateCodes) {
		m.State = stateCodes[code]
	}
	w := d.uvarint()
	if w > 1<<16 {
		return Member{}, fmt.Errorf("metadata weight %d out of range", w)
	}
	m.Weight = int(w)
	m.Region = d.string()
	m.PeerAddr = d.string()
	m.PublicAddr = d.string()
	n := d.uvarint()
	if n > uint64(len(buf)) { // every VIP takes at least one byte
		return Member{}, fmt.Errorf("metadata claims %d VIPs in %d bytes", n, len(buf))
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		m.VIPs = append(m.VIPs, d.vip())
	}
	m.OriginsDown = -1
	if d.err == nil && len(d.buf) > 0 {
		down := d.uvarint()
		if down > 1<<16 {
			return Member{}, fmt.Errorf("metadata origins down %d out of range", down)
		}
		m.OriginsDown = int(down) - 1
	}
	if d.err == nil && len(d.buf) > 0 {
		vnodes := d.uvarint()
		if vnodes > 1<<16 {
			return Member{}, fmt.Errorf("metadata vnodes %d out of range", vnodes)
		}
		m.VNodes = int(vnodes)
	}
	if d.err != nil {
		return Member{}, d.err
	}
	return m, nil
}

// metaDecoder reads fields until the first error, after which every read returns zero.
type metaDecoder struct {
	buf []byte
	err error
}

var errMetaShort = errors.New("metadata truncated")

func (d *metaDecoder) take(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.buf) {
		d.err = errMetaShort
		return nil
	}
	out := d.buf[:n]
	d.buf = d.buf[n:]
	return out
}

func (d *metaDecoder) byte() byte {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *metaDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.err = errMetaShort
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *metaDecoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.buf)) {
		d.err = errMetaShort
		return ""
	}
	return string(d.take(int(n)))
}

func (d *metaDecoder) vip() string {
	switch tag := d.byte(); tag {
	case vipPrefix4, vipAddr4, vipPrefix6, vipAddr6:
		size := 4
		if tag == vipPrefix6 || tag == vipAddr6 {
			size = 16
		}
		raw := d.take(size)
		if raw == nil {
			return ""
		}
		addr, _ := netip.AddrFromSlice(raw)
		if tag == vipAddr4 || tag == vipAddr6 {
			return addr.String()
		}
		bits := int(d.byte())
		if bits > addr.BitLen() {
			d.err = fmt.Errorf("metadata VIP prefix length %d out of range", bits)
			return ""
		}
		return netip.PrefixFrom(addr, bits).String()
	case vipText:
		return d.string()
	default:
		if d.err == nil {
			d.err = fmt.Errorf("metadata VIP kind %d unknown", tag)
		}
		return ""
	}
}
