package gslb

import (
	"net"
	"net/netip"

	"github.com/miekg/dns"
)

// ourUDPSize is the EDNS buffer size we advertise and the most we send over UDP whatever the
// client offers: 1232 bytes fits every path's MTU without fragmentation (DNS flag day 2020).
const ourUDPSize = 1232

// ednsRequest is what the query's OPT record asks of us.
type ednsRequest struct {
	present bool
	version uint8
	udpSize int  // the client's buffer, at least 512
	do      bool // DNSSEC OK, echoed as RFC 3225 asks
	ecs     *dns.EDNS0_SUBNET
}

// parseEDNS reads the OPT record. ok is false when the query must get FORMERR: more than one
// OPT record (RFC 6891 6.1.1), an OPT not owned by the root, or a malformed client subnet.
func parseEDNS(r *dns.Msg) (e ednsRequest, ok bool) {
	var opt *dns.OPT
	for _, rr := range r.Extra {
		if o, is := rr.(*dns.OPT); is {
			if opt != nil {
				return e, false
			}
			opt = o
		}
	}
	if opt == nil {
		return e, true
	}
	if opt.Hdr.Name != "." {
		return e, false
	}
	e.present = true
	e.version = opt.Version()
	e.udpSize = max(int(opt.UDPSize()), dns.MinMsgSize)
	e.do = opt.Do()
	for _, o := range opt.Option {
		if s, is := o.(*dns.EDNS0_SUBNET); is {
			if e.ecs != nil || !validSubnet(s) {
				return e, false
			}
			e.ecs = s
		}
	}
	return e, true
}

// validSubnet applies RFC 7871 section 6: no address bits set beyond SOURCE PREFIX-LENGTH.
func validSubnet(s *dns.EDNS0_SUBNET) bool {
	addr, ok := subnetAddr(s)
	if !ok {
		return s.Family == 0 && s.SourceNetmask == 0
	}
	p, err := addr.Prefix(int(s.SourceNetmask))
	return err == nil && p.Addr() == addr
}

func subnetAddr(s *dns.EDNS0_SUBNET) (netip.Addr, bool) {
	switch s.Family {
	case 1:
		a, ok := netip.AddrFromSlice(s.Address.To4())
		return a, ok
	case 2:
		a, ok := netip.AddrFromSlice(s.Address.To16())
		return a, ok
	}
	return netip.Addr{}, false
}

// client is who we answer for: the subnet from ECS, else the resolver's own address.
type client struct {
	addr       netip.Addr
	sourceBits int
}

func clientOf(w dns.ResponseWriter, e ednsRequest) (client, bool) {
	if e.ecs != nil && e.ecs.SourceNetmask > 0 {
		if a, ok := subnetAddr(e.ecs); ok {
			return client{addr: a, sourceBits: int(e.ecs.SourceNetmask)}, true
		}
	}
	// SOURCE PREFIX-LENGTH 0 means the client opted out: use the resolver (RFC 7871 7.1.2).
	if u, ok := w.(addrPortWriter); ok {
		a := u.remoteAddrPort().Addr().Unmap()
		return client{addr: a, sourceBits: a.BitLen()}, a.IsValid()
	}
	var ip net.IP
	switch a := w.RemoteAddr().(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	default:
		return client{}, false
	}
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return client{}, false
	}
	a = a.Unmap()
	return client{addr: a, sourceBits: a.BitLen()}, true
}

// responseOPT builds our OPT record, echoing the client subnet with the scope of the answer.
func responseOPT(e ednsRequest, scope int) *dns.OPT {
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	opt.SetUDPSize(ourUDPSize)
	if e.do {
		opt.SetDo()
	}
	if e.ecs != nil {
		echo := *e.ecs
		echo.SourceScope = 0
		if echo.SourceNetmask > 0 {
			echo.SourceScope = uint8(scope)
		}
		opt.Option = append(opt.Option, &echo)
	}
	return opt
}

// addrPortWriter is a UDP writer that knows the client's address without allocating a
// net.Addr: the server's own UDP loop.
type addrPortWriter interface {
	remoteAddrPort() netip.AddrPort
}

// isTCP tells the transport from the writer; anything unknown is treated as UDP, which only
// ever makes answers smaller.
func isTCP(w dns.ResponseWriter) bool {
	if _, ok := w.(addrPortWriter); ok {
		return false
	}
	_, ok := w.RemoteAddr().(*net.TCPAddr)
	return ok
}
