package h2

// WINDOW_UPDATE frames are the one cheap frame a client is expected to send in numbers: one
// or two for each DATA frame it receives. So they are not all counted against
// MaxControlFrames, as PING and SETTINGS are; instead each DATA frame with content the server
// sends, and each stream it accepts, earns the client windowUpdatesPerData free ones (as
// Envoy bounds them by the DATA frames it sent and the streams it accepted), and a
// WINDOW_UPDATE beyond those credits counts as a control frame. A download never pays; a
// flood of updates that opens no stream and asks for no data (increments of 1 on the
// connection, say: 13 bytes each, a lock and a window change for the server) reaches the
// limit as a PING flood does.

// windowUpdatesPerData is what one DATA frame or one new stream earns: a client answers a
// DATA frame with a stream and a connection update.
const windowUpdatesPerData = 2

// earnWindowUpdates credits the client n free WINDOW_UPDATEs, keeping at most
// MaxControlFrames in hand so that a long download cannot bank a flood for later. Called
// with mu held.
func (c *conn) earnWindowUpdates(n int) {
	c.wuCredit = min(c.wuCredit+n, c.cfg.MaxControlFrames)
}

// windowUpdate spends a credit on one received WINDOW_UPDATE, or counts it as a control
// frame when there is none. Called with mu held, on the reading goroutine.
func (c *conn) windowUpdate() error {
	if c.wuCredit > 0 {
		c.wuCredit--
		return nil
	}
	return c.control()
}
