package policy

import (
	"fmt"
	"strings"
	"time"
)

// Rules is one route's policy compiled. Every part is nil when its rules are unused, and the
// methods of a nil part are no-ops, so the edge may call them unconditionally or test the
// pointer first on the hot path. Rules are immutable after Compile and safe for concurrent
// use.
type Rules struct {
	TTL      *Lifetime
	Stale    Stale
	Key      *KeyRules
	Cookies  *CookieRules
	Request  *FieldEdits // before the origin
	Response *FieldEdits // before the client
	Rewrite  *RewriteRule
	Redirect *RedirectRule
	Access   *AccessList
	// MaxBodyBytes is the route's request body limit; 0 means the node's.
	MaxBodyBytes int64
	// Prefix is the route's path prefix without its trailing "/", cut for
	// ${path_after_prefix} so that the rest starts with "/".
	Prefix string
}

// Compile checks and compiles c. Its errors name the rule (conf reports them with the key and
// line, having checked the same values first).
func Compile(c Config) (*Rules, error) {
	r := &Rules{
		TTL:          compileTTL(c.TTL),
		Stale:        c.Stale,
		Key:          compileKey(c.Key),
		Cookies:      compileCookies(c.Cookies),
		Rewrite:      compileRewrite(c.Rewrite),
		Access:       compileAccess(c.Access),
		MaxBodyBytes: c.MaxBodyBytes,
		Prefix:       strings.TrimSuffix(c.PathPrefix, "/"),
	}
	if err := checkTTL(c.TTL); err != nil {
		return nil, err
	}
	var err error
	if r.Request, err = compileFields(c.Request); err != nil {
		return nil, fmt.Errorf("headers.request: %w", err)
	}
	if r.Response, err = compileFields(c.Response); err != nil {
		return nil, fmt.Errorf("headers.response: %w", err)
	}
	if r.Redirect, err = compileRedirect(c.Redirect); err != nil {
		return nil, err
	}
	if a, d, ok := Overlap(c.Access.Allow, c.Access.Deny); ok {
		return nil, fmt.Errorf("access: allow %s overlaps deny %s", a, d)
	}
	if c.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("max_body_bytes %d is negative", c.MaxBodyBytes)
	}
	return r, nil
}

func checkTTL(t TTL) error {
	for s, d := range t.Status {
		if s < 100 || s > 599 {
			return fmt.Errorf("ttl: %d is not an HTTP status", s)
		}
		if d < 0 {
			return fmt.Errorf("ttl: %d: %s is negative", s, d)
		}
	}
	if t.Min < 0 || t.Max < 0 {
		return fmt.Errorf("ttl: min and max must not be negative")
	}
	if t.Max > 0 && t.Min > t.Max {
		return fmt.Errorf("ttl: min %s is above max %s", t.Min, t.Max)
	}
	return nil
}

// Empty reports whether the route has no rules at all (r may be nil).
func (r *Rules) Empty() bool {
	return r == nil || r.TTL == nil && r.Stale == (Stale{}) && r.Key == nil && r.Cookies == nil &&
		r.Request == nil && r.Response == nil && r.Rewrite == nil && r.Redirect == nil &&
		r.Access == nil && r.MaxBodyBytes == 0
}

// Describe lists the route's rules as short lines for /stats, in a fixed order.
func (r *Rules) Describe() []string {
	if r.Empty() {
		return nil
	}
	var out []string
	if r.TTL != nil {
		out = append(out, fmt.Sprintf("ttl %s override=%v min=%s max=%s", statusTTLs(r.TTL.status), r.TTL.override, r.TTL.min, r.TTL.max))
	}
	if r.Stale.WhileRevalidate > 0 || r.Stale.IfError > 0 {
		out = append(out, fmt.Sprintf("stale while_revalidate=%s if_error=%s", r.Stale.WhileRevalidate, r.Stale.IfError))
	}
	if k := r.Key; k != nil {
		var params []string
		if k.dropAll {
			params = append(params, "*")
		}
		params = append(params, k.names...)
		for _, p := range k.prefixes {
			params = append(params, p+"*")
		}
		out = append(out, fmt.Sprintf("cache_key ignore_params=%v include_headers=%v include_cookies=%v ignore_host=%v", params, k.headers, k.cookies, k.noHost))
	}
	if c := r.Cookies; c != nil {
		out = append(out, fmt.Sprintf("cookies strip_request=%v strip_set_cookie=%v bypass_if=%v", c.StripRequest, c.StripSetCookie, c.bypass))
	}
	for _, l := range r.Request.Describe() {
		out = append(out, "request "+l)
	}
	for _, l := range r.Response.Describe() {
		out = append(out, "response "+l)
	}
	if r.Rewrite != nil {
		out = append(out, "rewrite "+r.Rewrite.String())
	}
	if r.Redirect != nil {
		out = append(out, "redirect "+r.Redirect.String())
	}
	if a := r.Access; a != nil {
		out = append(out, fmt.Sprintf("access allow=%v deny=%v", a.allow, a.deny))
	}
	if r.MaxBodyBytes > 0 {
		out = append(out, fmt.Sprintf("max_body_bytes %d", r.MaxBodyBytes))
	}
	return out
}

func statusTTLs(m map[int]time.Duration) string {
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	for i := 1; i < len(codes); i++ {
		for j := i; j > 0 && codes[j] < codes[j-1]; j-- {
			codes[j], codes[j-1] = codes[j-1], codes[j]
		}
	}
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d=%s", c, m[c])
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// Uses reports whether any template of the route (field values, redirect target) names the
// variable, so the edge computes only the variables used.
func (r *Rules) Uses(name string) bool {
	return r.Request.Uses(name) || r.Response.Uses(name) || r.Redirect != nil && r.Redirect.to.Uses(name)
}

// Vars sets v.Prefix for the route; the edge calls it before expanding a template.
func (r *Rules) Vars(v *Vars) *Vars {
	v.Prefix = r.Prefix
	return v
}
