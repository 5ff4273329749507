package edge

import (
	"bytes"
	"net/netip"
	"strconv"
)

// normalAuthority validates a Host field value or the authority of an absolute-form target
// (RFC 9110 section 7.2, RFC 3986 section 3.2) and returns it folded the way cachestore.Key
// folds hosts: lower case, no trailing dot, no leading zeros in the port, no default port.
// name is the host without its port, what routes match. ok is false for userinfo ("u:p@h":
// RFC 9110 section 4.2.4 deprecates it and the node must never turn it into credentials), an
// empty host, characters outside a DNS name, a port that is not 1-5 digits up to 65535, and
// an IP literal that does not parse.
//
// The common, already folded host is borrowed from sc (see requestScratch; nil copies it).
func normalAuthority(sc *requestScratch, scheme string, raw []byte) (host, name string, ok bool) {
	if plainHost(raw) && len(raw) > 0 && raw[len(raw)-1] != '.' && validName(raw) {
		s := sc.str(raw)
		return s, s, true // the common case: already folded
	}
	if i := bytes.IndexByte(raw, ':'); i > 0 && plainHost(raw[:i]) && raw[i-1] != '.' && validName(raw[:i]) && foldedPort(scheme, raw[i+1:]) {
		s := sc.str(raw)
		return s, s[:i], true // folded with its port (a node on a port of its own, make bench)
	}
	var hostPart, port []byte
	if len(raw) > 0 && raw[0] == '[' {
		end := bytes.IndexByte(raw, ']')
		if end < 0 {
			return "", "", false
		}
		a, err := netip.ParseAddr(string(raw[1:end]))
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", "", false
		}
		rest := raw[end+1:]
		if len(rest) > 0 {
			if rest[0] != ':' {
				return "", "", false
			}
			port = rest[1:]
		}
		name = "[" + a.String() + "]"
	} else {
		hostPart = raw
		if i := bytes.IndexByte(raw, ':'); i >= 0 {
			hostPart, port = raw[:i], raw[i+1:]
		}
		hostPart = bytes.TrimSuffix(hostPart, []byte("."))
		if !validName(hostPart) {
			return "", "", false
		}
		name = string(bytes.ToLower(hostPart))
	}
	host = name
	if len(port) > 0 {
		if len(port) > 5 || len(bytes.Trim(port, "0123456789")) > 0 {
			return "", "", false
		}
		p, _ := strconv.Atoi(string(port))
		if p > 65535 {
			return "", "", false
		}
		if !(scheme == "http" && p == 80 || scheme == "https" && p == 443) {
			host = name + ":" + strconv.Itoa(p)
		}
	}
	return host, name, true
}

// foldedPort reports a port as the fold leaves it: 1-5 digits, no leading zero, at most
// 65535, and not the scheme's default (which the fold removes).
func foldedPort(scheme string, port []byte) bool {
	if len(port) == 0 || len(port) > 5 || port[0] == '0' {
		return false
	}
	p := 0
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
		p = p*10 + int(c-'0')
	}
	return p <= 65535 && !(scheme == "http" && p == 80 || scheme == "https" && p == 443)
}

// validName accepts a DNS name (letters, digits, '-', '_' and dots between non-empty labels,
// so no dot first or last: the one trailing dot of a fully qualified name is removed before)
// or an IPv4 address, which has the same characters.
func validName(h []byte) bool {
	if len(h) == 0 || h[0] == '.' || h[len(h)-1] == '.' {
		return false
	}
	prev := byte(0)
	for _, c := range h {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
		if c == '.' && prev == '.' {
			return false // an empty label
		}
		prev = c
	}
	return true
}
