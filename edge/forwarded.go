package edge

import (
	"net/netip"
	"strings"

	"github.com/valyala/fasthttp"
)

// proxyOnlyFields are request fields that only a proxy in front of the node may set. Origins
// (and their frameworks) read them to rebuild the URL, the client or the method: Symfony and
// Laravel X-Forwarded-Host/Port/Prefix, IIS and Zend X-Original-URL/X-Rewrite-URL, Rails and
// Express X-HTTP-Method-Override, nginx's X-Real-IP. None of them is in the cache key, so an
// origin that reflects one would let one client poison the object everyone gets. They are
// removed from every request whose client is not in trusted_proxies, on cache and pass routes
// alike (HAProxy and nginx practice: honour forwarding fields only from known proxies).
var proxyOnlyFields = []string{
	"X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Server",
	"X-Forwarded-Scheme", "X-Forwarded-Ssl", "X-Host", "X-Original-Host", "X-Original-URL",
	"X-Rewrite-URL", "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override",
	"X-Real-IP", "X-Client-IP", "True-Client-IP",
}

// trustedPrefixes parses conf's trusted_proxies, which conf has validated.
func trustedPrefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// trusted reports whether addr is one of the front proxies in trusted_proxies.
func (rt *settings) trusted(addr netip.Addr) bool {
	for _, p := range rt.trustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// dropProxyOnlyFields removes the proxyOnlyFields a client sent, whatever the case of their
// names, unless the client is a trusted proxy.
func dropProxyOnlyFields(h *fasthttp.RequestHeader, trusted bool) {
	if trusted {
		return
	}
	var names [][]byte
	for k := range h.All() {
		if mayBeProxyOnly(k) {
			if _, ok := listedFold(proxyOnlyFields, k); ok {
				names = append(names, append([]byte(nil), k...))
			}
		}
	}
	for _, k := range names {
		h.DelBytes(k)
	}
}

// mayBeProxyOnly passes over most fields without comparing them to the list: every listed
// name starts with X- or True- and has 6 to 22 bytes (a test holds the list to that).
func mayBeProxyOnly(k []byte) bool {
	return len(k) >= 6 && len(k) <= 22 && (k[0]|0x20 == 'x' || k[0]|0x20 == 't')
}

// setForwardingFields writes the request's forwarding fields as one line each, whatever the
// case of the client's names and however many lines it sent (RFC 9110 section 5.3 lets a
// list field be split over lines; fasthttp would forward each as sent):
//   - X-Forwarded-For: the prior values, then the client's address (the last element is the
//     one this node vouches for);
//   - X-Forwarded-Proto: replaced by the scheme the client used;
//   - Forwarded (RFC 7239): the prior elements, then for=<client>;proto=<scheme>;
//   - Via (RFC 9110 section 7.6.3): the prior members, then ours.
func setForwardingFields(h *fasthttp.RequestHeader, ip, proto, via string) {
	node := ip
	if strings.Contains(ip, ":") {
		node = `"[` + ip + `]"` // RFC 7239 section 6: an IPv6 node is quoted and bracketed
	}
	appendList(h, "X-Forwarded-For", ip)
	delFold(h, "X-Forwarded-Proto")
	h.Set("X-Forwarded-Proto", proto)
	appendList(h, "Forwarded", "for="+node+";proto="+proto)
	appendList(h, "Via", via)
}

// appendList replaces every line of a list field by one line: the prior members, then v.
func appendList(h *fasthttp.RequestHeader, name, v string) {
	var prior []string
	found := false
	for k, val := range h.All() {
		if len(k) == len(name) && strings.EqualFold(name, string(k)) {
			found = true
			if s := strings.TrimSpace(string(val)); s != "" {
				prior = append(prior, s)
			}
		}
	}
	if found {
		delFold(h, name)
	}
	if len(prior) > 0 {
		v = strings.Join(prior, ", ") + ", " + v
	}
	h.Set(name, v)
}
