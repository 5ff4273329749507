package purge

import (
	"slices"
	"strings"
)

// Target is one more thing a URL purge matches besides the URL itself: a store key (Kind
// url) or every key that starts with a value (Kind prefix). The edge resolves a URL into
// targets through the route it matches (Options.Resolve): a rewritten path, a key without
// the host, dropped or sorted query parameters, and, with request fields or cookies in the
// key, every such variant by prefix.
type Target struct {
	Kind  Kind   `json:"kind"`
	Value string `json:"value"`
}

// maxTargets bounds Request.Also: a route yields one or two; more is not a purge we made.
const maxTargets = 8

// resolve fills r.Also for a URL purge this node accepted. The targets are resolved once,
// here, and travel with the purge to peers, gossip and the ban log: a ban replayed after a
// reload that changed the route still removes what the route keyed when the purge was made,
// which is what was stored before it; resolving again on replay would look for keys nothing
// was stored under. Targets equal to the URL itself are left out: it is always purged.
func (s *Service) resolve(r Request) Request {
	if r.Kind != KindURL || s.resolver == nil {
		return r
	}
	for _, t := range s.resolver(r.Value) {
		if t.Kind == KindURL && t.Value == r.Value || slices.Contains(r.Also, t) || len(r.Also) == maxTargets {
			continue
		}
		r.Also = append(r.Also, t)
	}
	return r
}

// checkTargets validates the Also of a purge from another node: URL purges only, at most
// maxTargets, each a url or prefix in the store's key form (an http or https key, bounded).
// Key parts the edge adds after the URL (a "\x00" and request fields) are allowed: they are
// what a prefix of variants ends with.
func (r Request) checkTargets() error {
	if len(r.Also) == 0 {
		return nil
	}
	if r.Kind != KindURL {
		return errorf("only a URL purge has more targets")
	}
	if len(r.Also) > maxTargets {
		return errorf("%d targets, at most %d", len(r.Also), maxTargets)
	}
	for _, t := range r.Also {
		if t.Kind != KindURL && t.Kind != KindPrefix {
			return errorf("target kind %q (want url or prefix)", t.Kind)
		}
		if len(t.Value) > maxValueLen {
			return errorf("target longer than %d bytes", maxValueLen)
		}
		if !strings.HasPrefix(t.Value, "http://") && !strings.HasPrefix(t.Value, "https://") || len(t.Value) < len("http://x") {
			return errorf("target %q is not a store key", t.Value)
		}
	}
	return nil
}

// applyTargets purges what r.Also names, with r's softness, and returns the objects purged.
func (s *Service) applyTargets(r Request) int {
	n := 0
	for _, t := range r.Also {
		switch t.Kind {
		case KindURL:
			n += s.store.PurgeURL(t.Value, r.Soft)
		case KindPrefix:
			n += s.store.PurgePrefix(t.Value, r.Soft)
		}
	}
	return n
}
