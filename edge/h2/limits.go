package h2

import "time"

// meter counts events in fixed windows: cheap, and enough to tell a flood from a browser
// that cancels a page's requests.
type meter struct {
	n     int
	start time.Time
}

// add counts one event at now and reports whether the count in the current window passed
// limit.
func (m *meter) add(now time.Time, window time.Duration, limit int) bool {
	if now.Sub(m.start) > window {
		m.start, m.n = now, 0
	}
	m.n++
	return m.n > limit
}
