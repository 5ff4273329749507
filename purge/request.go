package purge

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
)

// Kind is what a purge matches. Its value is also the "kind" label of the metrics.
type Kind string

const (
	KindURL    Kind = "url"    // every variant of one URL
	KindPrefix Kind = "prefix" // every URL that starts with the value
	KindKey    Kind = "key"    // every object carrying a surrogate key (Surrogate-Key, Cache-Tag)
	KindAll    Kind = "all"    // everything
)

// ErrInvalid marks a request refused for what it says; the admin API answers it with 400.
var ErrInvalid = errors.New("invalid purge request")

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Request is one purge. Callers fill Kind, Value and Soft; the Service gives it ID and Time
// when it accepts it, and those travel with it to peers, gossip and the ban log.
type Request struct {
	ID    string    `json:"id,omitempty"`    // unique per purge; what makes applying twice harmless
	Time  time.Time `json:"time,omitzero"`   // when the originating node accepted it
	Kind  Kind      `json:"kind"`            // url, prefix, key or all
	Value string    `json:"value,omitempty"` // URL, prefix or surrogate key; empty for all
	Soft  bool      `json:"soft,omitempty"`  // mark stale instead of removing
	// Also are what a URL purge matches besides Value, in the store's key form: the keys of
	// the route the URL matched on the node that accepted it (see Options.Resolve). Set by
	// that node, never by an API client.
	Also []Target `json:"also,omitempty"`
}

// Response is what a purge achieved across the cluster.
type Response struct {
	ID      string   `json:"id"`
	Purged  int      `json:"purged"`  // objects removed or marked, summed over the nodes that acked
	Acked   []string `json:"acked"`   // nodes that applied it, self first
	Missing []string `json:"missing"` // live peers that did not acknowledge within the timeout
}

// maxValueLen bounds a URL, prefix or key; longer ones cannot be keys the edge stored.
const maxValueLen = 8 << 10

// normalize checks r and rewrites URLs and prefixes into the store's key form, so what the
// log and the peers see is exactly what the store matches.
func (r Request) normalize() (Request, error) {
	if len(r.Value) > maxValueLen {
		return r, errorf("value longer than %d bytes", maxValueLen)
	}
	var err error
	switch r.Kind {
	case KindURL:
		r.Value, err = KeyForURL(r.Value)
	case KindPrefix:
		r.Value, err = prefixKey(r.Value)
	case KindKey:
		if r.Value == "" {
			return r, errorf("empty surrogate key")
		}
		if strings.IndexFunc(r.Value, unicode.IsSpace) >= 0 || strings.Contains(r.Value, ",") {
			return r, errorf("surrogate key %q contains a separator, so no response can carry it", r.Value)
		}
	case KindAll:
		if r.Value != "" {
			return r, errorf("a purge of all takes no value")
		}
	default:
		return r, errorf("unknown kind %q (want url, prefix, key or all)", r.Kind)
	}
	return r, err
}

// checkRemote validates a request that arrived from another node: it must carry an id and be
// in normal form already, since the origin normalised it.
func (r Request) checkRemote() error {
	if r.ID == "" || len(r.ID) > 64 {
		return errorf("missing or oversized id")
	}
	if r.Time.IsZero() {
		return errorf("missing time")
	}
	n, err := r.normalize()
	if err != nil {
		return err
	}
	if n.Value != r.Value {
		return errorf("value %q is not in key form", r.Value)
	}
	return r.checkTargets()
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// apiBody is the admin API's request: exactly one of URL, Prefix, Key or All.
type apiBody struct {
	URL    *string `json:"url"`
	Prefix *string `json:"prefix"`
	Key    *string `json:"key"`
	All    *bool   `json:"all"`
	Soft   bool    `json:"soft"`
}

// ParseAPIRequest reads an admin API body such as {"url": "http://www.example.com/a.css"} or
// {"key": "product-42", "soft": true}. Unknown fields, trailing data, no kind or two kinds are
// errors wrapping ErrInvalid. The result is not yet normalised; Purge does that.
func ParseAPIRequest(body []byte) (Request, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var b apiBody
	if err := dec.Decode(&b); err != nil {
		return Request{}, errorf("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Request{}, errorf("trailing data after the JSON object")
	}
	var kinds []Kind
	req := Request{Soft: b.Soft}
	set := func(k Kind, v *string) {
		if v != nil {
			kinds = append(kinds, k)
			req.Kind, req.Value = k, *v
		}
	}
	set(KindURL, b.URL)
	set(KindPrefix, b.Prefix)
	set(KindKey, b.Key)
	if b.All != nil && *b.All {
		kinds = append(kinds, KindAll)
		req.Kind, req.Value = KindAll, ""
	}
	switch len(kinds) {
	case 0:
		return Request{}, errorf(`no purge kind: give one of "url", "prefix", "key" or "all": true`)
	case 1:
		return req, nil
	default:
		return Request{}, errorf("more than one purge kind: %v", kinds)
	}
}
