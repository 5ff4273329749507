package cachestore

import "time"

// Stamp is an instant in Unix nanoseconds, 0 for none: 8 bytes where a time.Time takes 24,
// on the two instants every stored object keeps (RFC 9111 section 4.2.3's request_time and
// response_time). It has no monotonic reading: ages computed from it follow the wall clock,
// as they must for an object read back from disk after a restart.
type Stamp int64

// StampOf is t as a Stamp; the zero time is 0.
func StampOf(t time.Time) Stamp {
	if t.IsZero() {
		return 0
	}
	return Stamp(t.UnixNano())
}

// Time is s as a time.Time in UTC; 0 is the zero time. It allocates nothing.
func (s Stamp) Time() time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(s)).UTC()
}
