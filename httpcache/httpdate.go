package httpcache

import "time"

// parseHTTPDate reads an RFC 9110 5.6.7 HTTP-date. The preferred IMF-fixdate
// form is parsed by hand because it is on the hot path of every freshness
// check and time.Parse allocates a zone for "GMT"; the two obsolete forms go
// through time.Parse. The clock is read only for an rfc850-date, whose
// two-digit year means nothing without the present (see rfc850Year).
func parseHTTPDate(s string) (time.Time, bool) { return parseHTTPDateAt(s, time.Now) }

// parseHTTPDateAt is parseHTTPDate with the clock that places a two-digit year.
func parseHTTPDateAt(s string, now func() time.Time) (time.Time, bool) {
	s = trimOWS(s)
	if t, ok := parseIMFFixdate(s); ok {
		return t, true
	}
	if t, err := time.Parse("Monday, 02-Jan-06 15:04:05 GMT", s); err == nil {
		return rfc850Year(t.UTC(), now())
	}
	if t, err := time.Parse("Mon Jan _2 15:04:05 2006", s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// rfc850Year moves t, parsed from an rfc850-date, to the year RFC 9110 5.6.7 means: a
// two-digit year that would be more than 50 years after now is the most recent past year
// with the same last two digits. time.Parse's own pivot (69-99 as 19xx) read "70" as 1970
// in 2026, making a 2070 Expires long expired and a 2070 Last-Modified ancient. false if
// the day does not exist in the year meant (29-Feb-00 in 2100).
func rfc850Year(t, now time.Time) (time.Time, bool) {
	limit := now.UTC().AddDate(50, 0, 0)
	year := now.UTC().Year()/100*100 + 100 + t.Year()%100
	for {
		moved := time.Date(year, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
		if !moved.After(limit) {
			return moved, moved.Day() == t.Day()
		}
		year -= 100
	}
}

// parseIMFFixdate parses "Sun, 06 Nov 1994 08:49:37 GMT".
func parseIMFFixdate(s string) (time.Time, bool) {
	if len(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
		s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25:] != " GMT" {
		return time.Time{}, false
	}
	if dayName(s[:3]) < 0 {
		return time.Time{}, false
	}
	month := monthNumber(s[8:11])
	day, ok1 := digits(s[5:7])
	year, ok2 := digits(s[12:16])
	hour, ok3 := digits(s[17:19])
	minute, ok4 := digits(s[20:22])
	sec, ok5 := digits(s[23:25])
	if month == 0 || !(ok1 && ok2 && ok3 && ok4 && ok5) ||
		day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // 31 Feb and friends normalise into another month
		return time.Time{}, false
	}
	return t, true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func dayName(s string) int {
	for i, d := range [...]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"} {
		if s == d {
			return i
		}
	}
	return -1
}

func monthNumber(s string) int {
	for i, m := range [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"} {
		if s == m {
			return i + 1
		}
	}
	return 0
}

// FormatHTTPDate renders t as an IMF-fixdate, the form RFC 9110 5.6.7 requires
// senders to use.
func FormatHTTPDate(t time.Time) string {
	return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")
}
