package loadtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// PurgeRequest is the body of POST /purge on the admin API; exactly one field is set.
type PurgeRequest struct {
	URL    string `json:"url,omitempty"`
	Prefix string `json:"prefix,omitempty"`
}

// PurgeTargeter posts next(0), next(1), ... as JSON to <admin>/purge, with
// "Authorization: Bearer <token>" when token is not empty. A purge storm is this targeter in
// an attack of its own, run beside the load at its own rate, so a slow admin API neither
// thins the storm nor slows the load. next is called from many workers at once.
func PurgeTargeter(admin, token string, next func(i uint64) PurgeRequest) vegeta.Targeter {
	url := strings.TrimSuffix(admin, "/") + "/purge"
	header := http.Header{"Content-Type": {"application/json"}}
	if token != "" {
		header.Set("Authorization", "Bearer "+token)
	}
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		if t == nil {
			return vegeta.ErrNilTarget
		}
		body, err := json.Marshal(next(n.Add(1) - 1))
		if err != nil {
			return err
		}
		t.Method, t.URL, t.Header, t.Body = http.MethodPost, url, header, body
		return nil
	}
}

// MixedPurges alternates exact-URL purges of Zipf-popular keys (the objects most worth
// invalidating) with prefix purges of one ninth of the key space ("<prefix>1" ... "<prefix>9"),
// so the storm exercises both index paths of the purge API. urlOf maps a key to its URL.
func MixedPurges(urlOf func(key string) string, z *Zipf, seed uint64) func(i uint64) PurgeRequest {
	return func(i uint64) PurgeRequest {
		if i%2 == 0 {
			return PurgeRequest{URL: urlOf(strconv.Itoa(z.Rank(uniform(seed^0x5eed, i))))}
		}
		return PurgeRequest{Prefix: urlOf(strconv.FormatUint(i/2%9+1, 10))}
	}
}
