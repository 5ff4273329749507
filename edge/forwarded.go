package edge

import (
	"bytes"
	"net/netip"
	"strings"
)

// proxyOnlyFields are request fields that only a proxy in front of the node may set. Origins
// (and their frameworks) read them to rebuild the URL, the client or the method: Symfony and
// Laravel X-Forwarded-Host/Port/Prefix, IIS and Zend X-Original-URL/X-Rewrite-URL, Rails and
// Express X-HTTP-Method-Override, nginx's X-Real-IP; the scheme fields gunicorn
// (X-Forwarded-Protocol: ssl), Yii and Exchange (Front-End-Https: on) trust by default; and the
// client addresses Rails (Client-IP), django-ipware and PHP's getClientIp snippets read
// (X-Cluster-Client-IP, X-Forwarded, Forwarded-For, and the CDNs' CF-Connecting-IP,
// Fastly-Client-IP, True-Client-IP). None of them is in the cache key, so an
// origin that reflects one would let one client poison the object everyone gets. They are
// removed from every request whose client is not in trusted_proxies, on cache and pass routes
// alike (HAProxy and nginx practice: honour forwarding fields only from known proxies).
// X-Forwarded-For and X-Forwarded-Proto are the node's (setForwardingFields); of a client's
// Forwarded (RFC 7239) only the for= parameters are kept (forOnly).
var proxyOnlyFields = []string{
	"X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Server",
	"X-Forwarded-Scheme", "X-Forwarded-Ssl", "X-Host", "X-Original-Host", "X-Original-URL",
	"X-Rewrite-URL", "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override",
	"X-Real-IP", "X-Client-IP", "True-Client-IP",
	"X-Forwarded-Protocol", "Front-End-Https", "Client-IP", "X-Cluster-Client-IP", "X-Forwarded",
	"Forwarded-For", "CF-Connecting-IP", "Fastly-Client-IP",
}

// nodeOnlyFields are the node's own forwarding fields spelled with '_' for '-': CGI,
// FastCGI, WSGI and Rack map both spellings to one HTTP_X_FORWARDED_FOR variable, so a
// client's X_Forwarded_Proto would stand beside (or replace) the node's X-Forwarded-Proto.
var nodeOnlyFields = []string{"X-Forwarded-For", "X-Forwarded-Proto"}

// internalFields are the peer hop's fields (peer.go, purge.SecretHeader): the node reads
// them on its peer port only, and none of them may reach an origin, whoever sent it.
var internalFields = []string{forwardedHeader, clientIPHeader, schemeHeader, peerSecretHeader, adoptHeader}

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
// names and with '_' for '-', unless the client is a trusted proxy; and the internalFields,
// always. An untrusted client's Forwarded keeps its for= parameters only. Unless underscores
// (limits.underscores_in_headers), every field whose name holds '_' is removed, whoever sent
// it, as nginx ignores them by default: a CGI, FastCGI, WSGI or Rack origin reads X_Real_IP,
// Content_Length or Transfer_Encoding as the field the node sets, checks or strips.
func dropProxyOnlyFields(h *fieldList, trusted, underscores bool) {
	var names [][]byte
	forwarded := false
	for k := range h.All() {
		if !underscores && bytes.IndexByte(k, '_') >= 0 {
			names = append(names, append([]byte(nil), k...))
			continue
		}
		if !mayBeProxyOnly(k) {
			continue
		}
		if listedSpelling(internalFields, k) ||
			!trusted && (listedSpelling(proxyOnlyFields, k) || bytes.IndexByte(k, '_') >= 0 && listedSpelling(nodeOnlyFields, k)) {
			names = append(names, append([]byte(nil), k...))
		}
		forwarded = forwarded || !trusted && len(k) == len("Forwarded") && bytes.EqualFold(k, []byte("Forwarded"))
	}
	for _, k := range names {
		h.DelBytes(k)
	}
	if forwarded {
		keepForOnly(h)
	}
}

// keepForOnly rewrites the Forwarded lines of an untrusted client to their for= parameters:
// host=, proto= and by= (RFC 7239 sections 5.1-5.4) say what X-Forwarded-Host and
// X-Forwarded-Proto say, which Spring and others read from the first element to build URLs
// no cache key describes. for= is kept as X-Forwarded-For's prior members are: the node's
// own element, which comes last, is the one it vouches for.
func keepForOnly(h *fieldList) {
	var kept []string
	for k, v := range h.All() {
		if len(k) == len("Forwarded") && bytes.EqualFold(k, []byte("Forwarded")) {
			if f := forOnly(string(v)); f != "" {
				kept = append(kept, f)
			}
		}
	}
	h.Del("Forwarded")
	if len(kept) > 0 {
		h.Set("Forwarded", strings.Join(kept, ", "))
	}
}

// forOnly returns the for= pairs of a Forwarded value, one element each, in order. Quoted
// strings (which may hold ',' ';' '=' and quoted-pairs) are kept whole.
func forOnly(v string) string {
	var out []string
	for _, elem := range splitQuoted(v, ',') {
		var fors []string
		for _, pair := range splitQuoted(elem, ';') {
			pair = trimOWSString(pair)
			if name, _, ok := strings.Cut(pair, "="); ok && strings.EqualFold(trimOWSString(name), "for") {
				fors = append(fors, pair)
			}
		}
		if len(fors) > 0 {
			out = append(out, strings.Join(fors, ";"))
		}
	}
	return strings.Join(out, ", ")
}

// listMembers appends the non-empty members of the list value v to dst, each without the
// whitespace around it; a comma inside a quoted string (Forwarded) or a comment (Via, RFC 9110
// section 5.6.5) does not separate members.
func listMembers(dst []string, v string) []string {
	start, quoted, depth := 0, false, 0
	for i := 0; i <= len(v); i++ {
		if i < len(v) {
			switch c := v[i]; {
			case (quoted || depth > 0) && c == '\\' && i+1 < len(v):
				i++
				continue
			case c == '"' && depth == 0:
				quoted = !quoted
				continue
			case !quoted && c == '(':
				depth++
				continue
			case !quoted && c == ')' && depth > 0:
				depth--
				continue
			case quoted || depth > 0 || c != ',':
				continue
			}
		}
		if m := trimOWSString(v[start:min(i, len(v))]); m != "" {
			dst = append(dst, m)
		}
		start = i + 1
	}
	return dst
}

// splitQuoted splits s at sep outside quoted strings (RFC 9110 section 5.6.4).
func splitQuoted(s string, sep byte) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// mayBeProxyOnly passes over most fields without comparing them to the lists: every listed
// name starts with X-, True-, Forwarded, Front-, Fastly-, Client-, CF- or Shoal- and has 6
// to 22 bytes (a test holds the lists to that).
func mayBeProxyOnly(k []byte) bool {
	if len(k) < 6 || len(k) > 22 {
		return false
	}
	switch k[0] | 0x20 {
	case 'x', 't', 'f', 's', 'c':
		return true
	}
	return false
}

// listedSpelling reports a name of list equal to k ignoring case, '_' standing for '-'.
func listedSpelling(list []string, k []byte) bool {
	for _, l := range list {
		if len(l) == len(k) && sameSpelling(l, k) {
			return true
		}
	}
	return false
}

func sameSpelling(l string, k []byte) bool {
	for i := 0; i < len(k); i++ {
		a, b := l[i], k[i]
		if b == '_' {
			b = '-'
		}
		if a != b && (a|0x20 != b|0x20 || a|0x20 < 'a' || a|0x20 > 'z') {
			return false
		}
	}
	return true
}

// setForwardingFields writes the request's forwarding fields as one line each, whatever the
// case of the client's names and however many lines it sent (RFC 9110 section 5.3 lets a
// list field be split over lines; fasthttp would forward each as sent):
//   - X-Forwarded-For: the prior values, then the client's address (the last element is the
//     one this node vouches for);
//   - X-Forwarded-Proto: replaced by the scheme the client used;
//   - Forwarded (RFC 7239): the prior elements, then for=<client>;proto=<scheme>;
//   - Via (RFC 9110 section 7.6.3): the prior members, then ours.
//
// A request that carries none of the four (what a client that is not a proxy sends) gets the
// four lines appended in that order after one look at its fields, as the general path would
// leave them, without a scan of the list per field (issue 15's pass profile).
func setForwardingFields(h *fieldList, ip, proto, via string) {
	var buf [96]byte
	forwarded := appendForwardedElement(buf[:0], ip, proto)
	if !hasForwardingField(h) {
		h.Add("X-Forwarded-For", ip)
		h.Add("X-Forwarded-Proto", proto)
		h.AddBytesV("Forwarded", forwarded)
		h.Add("Via", via)
		return
	}
	appendList(h, "X-Forwarded-For", ip)
	h.Del("X-Forwarded-Proto")
	h.Set("X-Forwarded-Proto", proto)
	appendList(h, "Forwarded", string(forwarded))
	appendList(h, "Via", via)
}

// appendForwardedElement appends the Forwarded element (RFC 7239) naming the client at ip
// and the scheme it used: for=<node>;proto=<scheme>, an IPv6 node quoted and bracketed
// (RFC 7239 section 6).
func appendForwardedElement(dst []byte, ip, proto string) []byte {
	dst = append(dst, "for="...)
	if strings.Contains(ip, ":") {
		dst = append(dst, `"[`...)
		dst = append(dst, ip...)
		dst = append(dst, `]"`...)
	} else {
		dst = append(dst, ip...)
	}
	dst = append(dst, ";proto="...)
	return append(dst, proto...)
}

// hasForwardingField reports whether h has a line of any field setForwardingFields writes,
// whatever the case of its name.
func hasForwardingField(h *fieldList) bool {
	for _, f := range h.fields {
		n := h.at(f.name)
		switch len(n) {
		case len("X-Forwarded-For"), len("X-Forwarded-Proto"), len("Forwarded"), len("Via"):
			if bytes.EqualFold(n, []byte("X-Forwarded-For")) || bytes.EqualFold(n, []byte("X-Forwarded-Proto")) ||
				bytes.EqualFold(n, []byte("Forwarded")) || bytes.EqualFold(n, []byte("Via")) {
				return true
			}
		}
	}
	return false
}

// appendList replaces every line of a list field by one line: the prior members, then v.
// Empty members the client sent ("a, , b", a trailing comma) are dropped: RFC 9110 section
// 5.6.1 has a recipient accept them and a sender never generate them, and an origin that
// reads the member before the node's would read "" for the client.
func appendList(h *fieldList, name, v string) {
	var prior []string
	found := false
	for k, val := range h.All() {
		if len(k) == len(name) && strings.EqualFold(name, string(k)) {
			found = true
			prior = listMembers(prior, string(val))
		}
	}
	if found {
		h.Del(name)
	}
	if len(prior) > 0 {
		v = strings.Join(prior, ", ") + ", " + v
	}
	h.Set(name, v)
}
