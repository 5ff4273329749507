package httpcache

import (
	"reflect"
	"testing"
)

func TestHeader_access(t *testing.T) {
	h := hdr("Content-Type", "text/html", "set-cookie", "a=1", "Set-Cookie", "b=2")
	if got := h.Get("content-type"); got != "text/html" {
		t.Errorf("Get case-insensitive = %q", got)
	}
	if got := h.Get("Missing"); got != "" {
		t.Errorf("Get missing = %q", got)
	}
	if got := h.Values("SET-COOKIE"); !reflect.DeepEqual(got, []string{"a=1", "b=2"}) {
		t.Errorf("Values = %q", got)
	}
	if !h.Has("Set-Cookie") || h.Has("Vary") {
		t.Error("Has wrong")
	}
	if got, want := h.Size(), len("Content-Type")+len("text/html")+4+len("set-cookie")+3+4+len("Set-Cookie")+3+4; got != want {
		t.Errorf("Size = %d, want %d", got, want)
	}
}

func TestHeader_setKeepsPositionAndCase(t *testing.T) {
	h := hdr("A", "1", "x-thing", "old1", "B", "2", "X-Thing", "old2")
	h.Set("X-THING", "new")
	want := hdr("A", "1", "x-thing", "new", "B", "2")
	if !reflect.DeepEqual(h, want) {
		t.Errorf("Set = %v, want %v", h, want)
	}
	h.Set("C", "3")
	if h[len(h)-1] != (Field{"C", "3"}) {
		t.Errorf("Set of a new name appends: %v", h)
	}
}

func TestHeader_delAndClone(t *testing.T) {
	h := hdr("A", "1", "b", "2", "B", "3", "C", "4")
	c := h.Clone()
	h.Del("B")
	if !reflect.DeepEqual(h, hdr("A", "1", "C", "4")) {
		t.Errorf("Del = %v", h)
	}
	if !reflect.DeepEqual(c, hdr("A", "1", "b", "2", "B", "3", "C", "4")) {
		t.Errorf("Clone shares storage: %v", c)
	}
	if Header(nil).Clone() != nil {
		t.Error("Clone(nil) != nil")
	}
}

// TestHeader_List: a field on several lines is one comma-separated list (RFC 9110 §5.3).
func TestHeader_List(t *testing.T) {
	h := Header{{Name: "Accept-Encoding", Value: "br"}, {Name: "X", Value: "1"}, {Name: "accept-encoding", Value: "gzip;q=0.5"}}
	for name, want := range map[string]string{"Accept-Encoding": "br, gzip;q=0.5", "x": "1", "Y": ""} {
		if got := h.List(name); got != want {
			t.Errorf("List(%q) = %q, want %q", name, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = h.List("X") }); n != 0 {
		t.Errorf("one line allocated %v times", n)
	}
}
