package loadtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func decodeAll(t *testing.T, in io.Reader) []Result {
	t.Helper()
	dec := NewResultDecoder(in)
	var out []Result
	for {
		var r Result
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		out = append(out, r)
	}
}

func TestResultEncoder_RoundTrip(t *testing.T) {
	ts := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)
	in := []Result{
		{
			Attack: "zipf \"hot\"", Seq: 7, Code: 200, Timestamp: ts, Latency: 1234567 * time.Nanosecond,
			BytesOut: 3, BytesIn: 1024, Body: []byte{0, 1, 2, 0xff}, Method: "POST",
			URL:     "http://127.0.0.1:8080/obj/1?a=b&c=<d>",
			Headers: http.Header{"Cache-Status": {"shoal; hit; ttl=52"}, "Set-Cookie": {"a=1", "b=2"}},
		},
		{Seq: 8, Timestamp: ts.Add(time.Second), Error: "dial tcp: connection refused\n\ttab", Method: "GET", URL: "http://h/é"},
	}
	var buf bytes.Buffer
	enc := NewResultEncoder(&buf)
	for i := range in {
		if err := enc.Encode(&in[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != len(in) {
		t.Fatalf("%d lines for %d results:\n%s", n, len(in), buf.String())
	}
	got := decodeAll(t, &buf)
	// An empty headers object decodes as an empty map and a missing body as an empty slice.
	in[1].Headers = http.Header{}
	in[1].Body = []byte{}
	for i := range got {
		if !got[i].Timestamp.Equal(in[i].Timestamp) {
			t.Fatalf("result %d timestamp %v, want %v", i, got[i].Timestamp, in[i].Timestamp)
		}
		got[i].Timestamp = in[i].Timestamp
	}
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, in)
	}
}

// TestResultEncoder_VegetaFieldNames pins the JSON layout vegeta reads and writes.
func TestResultEncoder_VegetaFieldNames(t *testing.T) {
	var buf bytes.Buffer
	enc := NewResultEncoder(&buf)
	r := Result{Attack: "a", Seq: 1, Code: 204, Timestamp: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		Latency: 2 * time.Millisecond, BytesOut: 5, BytesIn: 9, Body: []byte("hi"), Method: "GET", URL: "http://h/"}
	if err := enc.Encode(&r); err != nil {
		t.Fatal(err)
	}
	_ = enc.Flush()
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"attack", "body", "bytes_in", "bytes_out", "code", "error", "headers", "latency", "method", "seq", "timestamp", "url"}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	checks := map[string]any{
		"latency": float64(2000000), "timestamp": "2025-01-02T03:04:05.000000006Z", "body": "aGk=",
		"code": float64(204), "headers": map[string]any{}, "bytes_in": float64(9),
	}
	for k, v := range checks {
		if !reflect.DeepEqual(m[k], v) {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
}

func TestResultEncoder_InvalidUTF8StaysValidJSON(t *testing.T) {
	var buf bytes.Buffer
	enc := NewResultEncoder(&buf)
	r := Result{Headers: http.Header{"X-Bad": {"a\xffb\x01"}}}
	_ = enc.Encode(&r)
	_ = enc.Flush()
	got := decodeAll(t, &buf)
	if v := got[0].Headers.Get("X-Bad"); v != "a\ufffdb\x01" {
		t.Fatalf("header = %q", v)
	}
}

func TestResultDecoder_ReadsVegetaLines(t *testing.T) {
	// The first line is in the shape vegeta 12 writes; the second is an older vegeta line
	// without method, url and headers.
	in := `{"attack":"big","seq":0,"code":200,"timestamp":"2025-01-02T03:04:05.5+01:00","latency":1500000,"bytes_out":0,"bytes_in":12,"error":"","body":"aGVsbG8=","method":"GET","url":"http://localhost/","headers":{"Content-Type":["text/plain"]}}

{"attack":"","seq":1,"code":500,"timestamp":"2025-01-02T02:04:06Z","latency":20,"bytes_out":1,"bytes_in":2,"error":"500 Internal Server Error","body":null}
`
	got := decodeAll(t, strings.NewReader(in))
	if len(got) != 2 {
		t.Fatalf("%d results, want 2", len(got))
	}
	a, b := got[0], got[1]
	if a.Attack != "big" || a.Code != 200 || a.Latency != 1500*time.Microsecond || a.BytesIn != 12 ||
		string(a.Body) != "hello" || a.Method != "GET" || a.Headers.Get("Content-Type") != "text/plain" {
		t.Errorf("first = %+v", a)
	}
	if want := time.Date(2025, 1, 2, 2, 4, 5, 5e8, time.UTC); !a.Timestamp.Equal(want) {
		t.Errorf("timestamp %v, want %v", a.Timestamp, want)
	}
	if b.Seq != 1 || b.Code != 500 || b.Error != "500 Internal Server Error" || b.Body != nil {
		t.Errorf("second = %+v", b)
	}
}

func TestResultDecoder_BadLineNamesLine(t *testing.T) {
	in := `{"seq":0,"timestamp":"2025-01-02T03:04:05Z"}` + "\n\n" + `{"seq":"x"}` + "\n"
	dec := NewResultDecoder(strings.NewReader(in))
	var r Result
	if err := dec.Decode(&r); err != nil {
		t.Fatal(err)
	}
	err := dec.Decode(&r)
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v, want one naming line 3", err)
	}
}

func FuzzResultDecoder(f *testing.F) {
	f.Add(`{"attack":"a","seq":1,"code":200,"timestamp":"2025-01-02T03:04:05Z","latency":5,"headers":{"A":["b"]}}` + "\n")
	f.Add("{}\n\n{\"body\":\"!!\"}")
	f.Fuzz(func(t *testing.T, in string) {
		dec := NewResultDecoder(strings.NewReader(in))
		var r Result
		for i := 0; i < 100; i++ {
			if err := dec.Decode(&r); err != nil {
				return
			}
		}
	})
}
