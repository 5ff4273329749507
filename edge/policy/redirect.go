package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// RedirectRule is a route's redirect compiled.
type RedirectRule struct {
	to     Template
	re     *regexp.Regexp
	status int
}

// RedirectStatuses are the statuses a redirect may use (RFC 9110 section 15.4).
var RedirectStatuses = []int{301, 302, 303, 307, 308}

// ValidRedirectStatus reports whether s is one of RedirectStatuses.
func ValidRedirectStatus(s int) bool {
	for _, r := range RedirectStatuses {
		if r == s {
			return true
		}
	}
	return false
}

func compileRedirect(c Redirect) (*RedirectRule, error) {
	if c.To == "" && c.Regex == "" && c.Status == 0 {
		return nil, nil
	}
	if c.To == "" {
		return nil, fmt.Errorf("redirect without a target (to)")
	}
	r := &RedirectRule{status: c.Status}
	if r.status == 0 {
		r.status = 301
	}
	if !ValidRedirectStatus(r.status) {
		return nil, fmt.Errorf("redirect status %d: one of 301, 302, 303, 307, 308", c.Status)
	}
	if c.Regex != "" {
		re, err := regexp.Compile(c.Regex)
		if err != nil {
			return nil, fmt.Errorf("redirect regex: %w", err)
		}
		r.re = re
	}
	t, err := ParseTemplate(c.To, r.re != nil)
	if err != nil {
		return nil, err
	}
	r.to = t
	return r, nil
}

// Status is the redirect's status code.
func (r *RedirectRule) Status() int { return r.status }

// Location appends the Location of the redirect for the request described by v onto dst. With
// a regex that does not match the path, ok is false and the request is not redirected.
func (r *RedirectRule) Location(dst []byte, v *Vars) (loc []byte, ok bool) {
	if r.re != nil {
		m := r.re.FindStringSubmatch(v.Path)
		if m == nil {
			return dst, false
		}
		v.groups = m
		defer func() { v.groups = nil }()
	}
	return r.to.Append(dst, v), true
}

// String describes the redirect, for /stats.
func (r *RedirectRule) String() string {
	if r.re != nil {
		return fmt.Sprintf("%d %s -> %s", r.status, r.re, r.to)
	}
	return fmt.Sprintf("%d -> %s", r.status, r.to)
}

// RewriteRule is a route's path rewrite compiled.
type RewriteRule struct {
	strip, add string
}

func compileRewrite(c Rewrite) *RewriteRule {
	if c.StripPrefix == "" && c.AddPrefix == "" {
		return nil
	}
	return &RewriteRule{strip: c.StripPrefix, add: c.AddPrefix}
}

// Path returns the path sent to the origin (and keyed) for p. A path without the prefix is
// kept; a path that would become empty becomes "/". It allocates only when it changes p.
func (r *RewriteRule) Path(p string) string {
	if r == nil {
		return p
	}
	if r.strip != "" {
		rest, ok := strings.CutPrefix(p, r.strip)
		if !ok {
			return p
		}
		p = rest
		if r.add == "" && (p == "" || p[0] != '/') {
			p = "/" + p
		}
	}
	if r.add != "" {
		add := strings.TrimSuffix(r.add, "/")
		if p == "" || p[0] != '/' {
			p = "/" + p
		}
		p = add + p
	}
	return p
}

// String describes the rewrite, for /stats.
func (r *RewriteRule) String() string {
	return fmt.Sprintf("strip %q add %q", r.strip, r.add)
}
