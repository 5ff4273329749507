package vip

import (
	"testing"
)

func TestMessage_roundTrips(t *testing.T) {
	tests := []message{
		{kind: kindPing, from: "edge-1"},
		{kind: kindPong, from: "edge-2"},
		{kind: kindProbe, id: 1 << 40, from: "edge-3", target: "edge-1"},
		{kind: kindVerdict, id: 7, from: "edge-3", target: "edge-1", verdict: verdictAlive},
		{kind: kindVerdict, id: 9, from: "edge-3", target: "edge-1", verdict: verdictRefused},
		{kind: kindVerdict, id: 8, from: "e", target: "edge-1"},
	}
	for _, want := range tests {
		got, err := decodeMessage(want.append(nil))
		if err != nil || got != want {
			t.Errorf("%+v decoded as %+v, %v", want, got, err)
		}
	}
}

func TestDecodeMessage_refusesWhatIsNotAWholeMessage(t *testing.T) {
	good := message{kind: kindProbe, id: 3, from: "edge-1", target: "edge-2"}.append(nil)
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"wrong magic", append([]byte{0}, good[1:]...)},
		{"unknown kind", append([]byte{wireMagic, 9}, good[2:]...)},
		{"kind zero", append([]byte{wireMagic, 0}, good[2:]...)},
		{"verdict 3", append([]byte{wireMagic, kindVerdict, 3}, good[3:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(append([]byte(nil), good...), 0)},
		{"no sender", message{kind: kindPing}.append(nil)},
		{"name length past the end", []byte{wireMagic, kindPing, 0, 0, 200, 'a'}},
		{"name too long", message{kind: kindPing, from: string(make([]byte, 256))}.append(nil)},
		{"id overflow", []byte{wireMagic, kindPing, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	}
	for _, tt := range tests {
		if m, err := decodeMessage(tt.b); err == nil {
			t.Errorf("%s: decoded as %+v", tt.name, m)
		}
	}
}

// FuzzDecodeMessage feeds arbitrary datagrams: decoding must never panic, and whatever it
// accepts must survive encoding and decoding again unchanged (the bytes may differ: a
// uvarint has more than one spelling).
func FuzzDecodeMessage(f *testing.F) {
	f.Add(message{kind: kindPing, from: "edge-1"}.append(nil))
	f.Add(message{kind: kindVerdict, id: 99, from: "a", target: "b", verdict: verdictAlive}.append(nil))
	f.Add([]byte{wireMagic, kindProbe, 0, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		again, err := decodeMessage(m.append(nil))
		if err != nil || again != m {
			t.Fatalf("%q decoded as %+v, which round-trips as %+v, %v", b, m, again, err)
		}
	})
}
