package policy

import (
	"fmt"
	"strings"
	"testing"
)

// lineFields is a message header as lines in order, names compared case-insensitively as
// the edge compares them (RFC 9110 section 5.1). It has no DelAll: Apply edits it name by name.
type lineFields struct{ lines [][2]string }

func (f *lineFields) Del(name string) {
	kept := f.lines[:0]
	for _, l := range f.lines {
		if !strings.EqualFold(l[0], name) {
			kept = append(kept, l)
		}
	}
	f.lines = kept
}

func (f *lineFields) SetBytesV(name string, v []byte) {
	f.Del(name)
	f.AddBytesV(name, v)
}

func (f *lineFields) AddBytesV(name string, v []byte) {
	f.lines = append(f.lines, [2]string{name, string(v)})
}

func (f *lineFields) String() string { return fmt.Sprint(f.lines) }

// dropFields is lineFields with DelAll, so Apply takes its one-walk path.
type dropFields struct {
	lineFields
	calls int
}

func (f *dropFields) DelAll(names []string) {
	f.calls++
	for _, n := range names {
		f.Del(n)
	}
}

// The one-walk path (FieldsDropper) must make exactly the edit that remove, set and add
// make one name at a time, whatever the overlaps between the lists and the spellings.
func TestFieldEdits_DropperSameEdit(t *testing.T) {
	header := [][2]string{{"x-powered-by", "PHP"}, {"X-Frame-Options", "DENY"}, {"X-FRAME-OPTIONS", "DENY"},
		{"Vary", "Accept"}, {"x-trace", "1"}, {"Server", "nginx"}}
	cases := []struct {
		name string
		c    FieldRules
	}{
		{"remove and set, the wordpress example", FieldRules{
			Set: map[string]string{"Strict-Transport-Security": "max-age=31536000", "X-Content-Type-Options": "nosniff",
				"X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "strict-origin-when-cross-origin"},
			Remove: []string{"X-Powered-By"}}},
		{"a name removed and set", FieldRules{Set: map[string]string{"server": "shoal"}, Remove: []string{"Server"}}},
		{"a name set and added", FieldRules{Set: map[string]string{"X-Trace": "${node}"}, Add: map[string]string{"x-trace": "2"}}},
		{"a name removed and added", FieldRules{Add: map[string]string{"Vary": "Cookie"}, Remove: []string{"vary"}}},
		{"add only", FieldRules{Add: map[string]string{"X-Frame-Options": "SAMEORIGIN"}}},
		{"remove only, absent", FieldRules{Remove: []string{"X-Absent", "Set-Cookie"}}},
		{"set with a variable", FieldRules{Set: map[string]string{"X-Edge": "${node} ${path}"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := compileFields(c.c)
			if err != nil {
				t.Fatal(err)
			}
			v := &Vars{Node: "edge-1", Path: "/a.css"}
			one := &lineFields{lines: append([][2]string(nil), header...)}
			e.Apply(one, v, nil)
			walk := &dropFields{lineFields: lineFields{lines: append([][2]string(nil), header...)}}
			e.Apply(walk, v, nil)
			if walk.calls != 1 {
				t.Errorf("DelAll called %d times, want 1", walk.calls)
			}
			if one.String() != walk.String() {
				t.Errorf("one walk: %s\nname by name: %s", walk.String(), one.String())
			}
		})
	}
}

type nopDropper struct{ nopFields }

func (nopDropper) DelAll([]string) {}

func TestFieldEdits_DropperAllocatesNothing(t *testing.T) {
	r, _ := Compile(Config{Response: FieldRules{
		Set:    map[string]string{"Strict-Transport-Security": "max-age=31536000", "X-Frame-Options": "SAMEORIGIN", "X-Node": "${node}"},
		Remove: []string{"X-Powered-By", "Server"},
	}})
	var h Fields = nopDropper{}
	v := &Vars{Node: "edge-1"}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = r.Response.Apply(h, v, buf) }); n != 0 {
		t.Errorf("Apply allocated %v times", n)
	}
}
