package origin

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Upgraded is the answer to a request that asked to switch protocols (RFC 9110 section 7.8;
// a WebSocket handshake, RFC 6455): on 101 (Switching Protocols) Conn is the server's
// connection, now speaking the new protocol, and the caller relays bytes both ways until
// either side closes, then calls Close; any other status is an ordinary answer to the
// request, its body in Response.Body, and Close ends the exchange.
//
// A tunnel is never retried and never takes a pooled keep-alive connection: it is made on a
// connection of its own, which it holds to its end. It holds one of its server's connection
// slots (max_conns, least connections) for as long.
type Upgraded struct {
	// Response is the final head; its Body is the content of an answer other than 101.
	Response *http.Response
	// Conn is the connection to the server; after a 101 it has nothing buffered but Reader's.
	Conn net.Conn
	// Reader holds what the server sent after the 101's head (its first frames): read it
	// before Conn, or read Reader only.
	Reader *bufio.Reader
	// Server is the server's opaque id, as Result.Server.
	Server string

	pool   *Pool
	server *server
	closed bool
}

// Close closes the connection and gives back the server's slot. It is not safe for
// concurrent use; calling it twice does nothing.
func (u *Upgraded) Close() error {
	if u.closed {
		return nil
	}
	u.closed = true
	err := u.Conn.Close()
	u.pool.release(u.server)
	return err
}

// Upgrade sends head, a request head asking to switch protocols (its Connection and Upgrade
// fields included, Host the pool's rewrite when it has one), to a server t picks, on a new
// connection, and reads the answer: interim answers but 101 are skipped. The connect and the
// wait for the answer are bounded by connect_timeout and first_byte_timeout; once Upgrade
// returns, the caller bounds the connection (nothing here sets a deadline after the head).
// A failure to connect or a timeout counts against the server's passive health.
func (p *Pool) Upgrade(head RequestHead, t Target) (*Upgraded, error) {
	s, _, err := p.acquire(&t, nil)
	if err != nil {
		return nil, err
	}
	start := p.now()
	u, err := p.upgradeOn(s, head)
	end := p.now()
	if err != nil {
		kind := classify(err)
		p.finish(s, kind, 0, end.Sub(start), end)
		p.release(s)
		return nil, &Error{Pool: p.cfg.name, Server: s.cfg.id, Addr: s.cfg.addr, Kind: kind, Err: err}
	}
	p.finish(s, "", u.Response.StatusCode, end.Sub(start), end)
	u.pool, u.server, u.Server = p, s, s.cfg.id
	return u, nil
}

func (p *Pool) upgradeOn(s *server, head RequestHead) (*Upgraded, error) {
	d := net.Dialer{Timeout: p.cfg.connectTimeout, KeepAlive: 30 * time.Second}
	c, err := d.Dial("tcp", s.cfg.addr)
	if err != nil {
		return nil, &dialError{err: err}
	}
	if s.cfg.tls {
		tc := tls.Client(c, &tls.Config{ServerName: s.cfg.url.Hostname(), NextProtos: []string{"http/1.1"}})
		tc.SetDeadline(time.Now().Add(p.cfg.connectTimeout))
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, &dialError{err: err}
		}
		c = tc
	}
	c.SetDeadline(time.Now().Add(p.cfg.firstByteTimeout))
	buf := head.AppendHead(make([]byte, 0, 1024), p.cfg.hostRewrite)
	buf = append(buf, "\r\n"...)
	if _, err := c.Write(buf); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReader(c)
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(br, nil)
		if err != nil {
			c.Close()
			return nil, &startedError{err}
		}
		if resp.StatusCode == http.StatusSwitchingProtocols || resp.StatusCode >= 200 {
			break
		}
		if resp.StatusCode < 100 {
			c.Close()
			return nil, &startedError{fmt.Errorf("status %d", resp.StatusCode)}
		}
	}
	c.SetDeadline(time.Time{})
	return &Upgraded{Response: resp, Conn: c, Reader: br}, nil
}
