package purge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/conf"
)

// A 401 without WWW-Authenticate breaks RFC 9110 section 15.5.2 (a 401 MUST carry a
// challenge), and clients that follow it (curl --anyauth, HTTP libraries that retry with
// credentials on a challenge) cannot tell what the API wants. The purge API answered its 401s
// with none; it now names the Bearer scheme (RFC 6750 section 3), with error="invalid_token"
// when a bearer token was sent and was wrong.
func TestAdminHandler_unauthorizedCarriesABearerChallenge(t *testing.T) {
	f := newAdminFixture(t, conf.Purge{Token: testToken})
	for _, tc := range []struct{ name, auth, want string }{
		{"no credentials", "", `Bearer realm="shoal"`},
		{"another scheme", "Basic " + testToken, `Bearer realm="shoal"`},
		{"wrong token", "Bearer " + testToken + "x", `Bearer realm="shoal", error="invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/purge", strings.NewReader(`{"all": true}`))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			res, err := f.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := res.Header.Get("WWW-Authenticate"); res.StatusCode != http.StatusUnauthorized || got != tc.want {
				t.Errorf("%d with WWW-Authenticate %q; want 401 with %q", res.StatusCode, got, tc.want)
			}
		})
	}
	f.untouched(t)
}
