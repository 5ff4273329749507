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
