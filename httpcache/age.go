package httpcache

import (
	"math"
	"strconv"
	"time"
)

// CurrentAge is the age of a stored response at now, following RFC 9111 4.2.3
// in full:
//
//	apparent_age          = max(0, response_time - date_value)
//	response_delay        = response_time - request_time
//	corrected_age_value   = age_value + response_delay
//	corrected_initial_age = max(apparent_age, corrected_age_value)
//	resident_time         = now - response_time
//	current_age           = corrected_initial_age + resident_time
//
// A missing or invalid Date counts as response_time (RFC 9110 6.6.1: a
// recipient with a clock assigns one). A list-valued Age uses its first member
// and an invalid Age is ignored (RFC 9111 5.1). A zero RequestTime means the
// delay is unknown and taken as 0. Clock steps never make an age negative.
func CurrentAge(resp Response, now time.Time) time.Duration {
	date := responseDate(resp)
	apparent := max(resp.ResponseTime.Sub(date), 0)
	var delay time.Duration
	if !resp.RequestTime.IsZero() {
		delay = max(resp.ResponseTime.Sub(resp.RequestTime), 0)
	}
	corrected := addAges(ageValue(resp), delay)
	initial := max(apparent, corrected)
	resident := max(now.Sub(resp.ResponseTime), 0)
	return addAges(initial, resident)
}

// addAges adds two non-negative durations, saturating at the largest one. A Date
// before 1970 minus 292 years (Go's zero time, "Mon, 01 Jan 0001 00:00:00 GMT", which
// an origin that formats an unset time sends) saturates apparent_age (time.Sub), and
// one more second of residence wrapped the age negative: the client was sent
// "Age: -9223372035" (5.1 allows only a non-negative integer).
func addAges(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// responseDate is date_value: the Date field, or response_time without one.
func responseDate(resp Response) time.Time {
	if !resp.Date.IsZero() {
		return resp.Date
	}
	// Without a Date line nothing is parsed: the two obsolete forms' time.Parse allocate
	// their errors, and Storable asks for the age of every response it keeps.
	if v, present := resp.firstLine("Date"); present {
		if t, ok := parseHTTPDate(v); ok {
			return t
		}
	}
	return resp.ResponseTime
}

// ageValue reads the Age field (RFC 9111 5.1): the first member of the first
// line, a non-negative integer, else 0.
func ageValue(resp Response) time.Duration {
	if age, ok := resp.firstLine("Age"); ok {
		v, _ := deltaOrZero(firstListMember(age), true)
		return v
	}
	return 0
}

// AgeValue formats an age for the Age field: whole seconds, never negative,
// capped at 2147483648 as RFC 9111 5.1 asks on overflow.
func AgeValue(d time.Duration) string {
	s := int64(d / time.Second)
	if s < 0 {
		s = 0
	}
	if s > maxDeltaSeconds {
		s = maxDeltaSeconds
	}
	return strconv.FormatInt(s, 10)
}

// DateOf parses the Date field of h, for Response.Date; zero when it has none or it does
// not parse (the response time then stands in, as RFC 9111 4.2.3 says).
func DateOf(h Header) time.Time {
	t, _ := parseHTTPDate(h.Get("Date"))
	return t
}
