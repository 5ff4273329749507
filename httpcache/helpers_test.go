package httpcache

import "time"

// t0 is the fixed clock of every test: the response arrives at t0.
var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func hdr(kv ...string) Header {
	var h Header
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// resp builds a response received at t0 for a request sent at t0.
func resp(status int, kv ...string) Response {
	return Response{Status: status, Header: hdr(kv...), RequestTime: t0, ResponseTime: t0}
}

func getReq(kv ...string) Request { return Request{Method: "GET", Header: hdr(kv...)} }

// at renders t0+d as an HTTP-date.
func at(d time.Duration) string { return FormatHTTPDate(t0.Add(d)) }
