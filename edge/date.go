package edge

import (
	"net/http"
	"time"
	"unsafe"
)

// startHead resets a response head to status and a Date field. A cache must pass the
// origin's Date on (RFC 9110 section 6.6.1: downstream caches compute Expires lifetimes
// from it); a response without one gets the node's clock. Listeners whose head manages Date
// itself (fasthttp's) implement dateSeeder.
func startHead(h responseHead, status int, date string, now time.Time) {
	if date == "" {
		date = now.UTC().Format(http.TimeFormat)
	}
	if s, ok := h.(dateSeeder); ok {
		s.startWithDate(status, date)
		return
	}
	h.Reset()
	h.SetStatusCode(status)
	h.Set("Date", date)
}

// borrowString is b as a string without a copy, for a call that copies what it keeps (the
// origin's Date into a response head: startHead): converting it cost an allocation per pass.
// b must not change while the string is in use.
func borrowString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// dateSeeder is a response head that takes its Date only through startWithDate.
type dateSeeder interface {
	startWithDate(status int, date string)
}
