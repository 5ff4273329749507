package origin

import "strconv"

// stickyCookie is the Set-Cookie value that pins a client to s. It names the server only by its
// opaque id, never by address. HttpOnly because scripts have no business with it; no Secure,
// since the edge may serve plain HTTP and the cookie carries no secret.
func (p *Pool) stickyCookie(s *server) string {
	v := p.cfg.stickyCookie + "=" + s.cfg.id + "; Path=/; HttpOnly; SameSite=Lax"
	if p.cfg.stickyMaxAge > 0 {
		v += "; Max-Age=" + strconv.FormatInt(int64(p.cfg.stickyMaxAge.Seconds()), 10)
	}
	return v
}

// StickyCookie is the name of the pool's sticky cookie ("" when stickiness by cookie is off), so
// the edge knows which request cookie to pass as Target.StickyID.
func (p *Pool) StickyCookie() string { return p.cfg.stickyCookie }
