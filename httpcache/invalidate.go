package httpcache

import (
	"net/url"
	"strings"
)

// InvalidationTargets lists the URIs a cache must invalidate after forwarding
// an unsafe request (RFC 9111 4.4): when the method is not safe (RFC 9110
// 9.2.1) and the status is 2xx or 3xx, the target URI, and the URIs in
// Location and Content-Location when they resolve (against requestURL) to the
// same origin. Other origins are ignored, since a response must not be able to
// purge another site's objects. The result holds absolute URLs without
// fragments, deduplicated, target first; it is empty for safe methods, error
// statuses and an unparsable requestURL.
func InvalidationTargets(method string, status int, requestURL string, resp Header) []string {
	if safeMethod(method) || status < 200 || status > 399 {
		return nil
	}
	base, err := url.Parse(requestURL)
	if err != nil || !base.IsAbs() || base.Host == "" {
		return nil
	}
	base.Fragment, base.RawFragment = "", ""
	targets := []string{base.String()}
	for _, name := range [...]string{"Location", "Content-Location"} {
		v := trimOWS(resp.Get(name))
		if v == "" {
			continue
		}
		ref, err := url.Parse(v)
		if err != nil {
			continue
		}
		u := base.ResolveReference(ref)
		u.Fragment, u.RawFragment = "", ""
		if !sameOrigin(base, u) {
			continue
		}
		if s := u.String(); !containsString(targets, s) {
			targets = append(targets, s)
		}
	}
	return targets
}

// safeMethod lists the safe methods of RFC 9110 9.2.1.
func safeMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

// sameOrigin compares scheme, host and port (RFC 6454), with default ports
// made explicit so http://a and http://a:80 agree.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
