package ring

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestMeta_roundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   Member
		want Member // differs from in only where the encoding canonicalises
	}{
		{"minimal", Member{Name: "a", State: StateAlive}, Member{Name: "a", State: StateAlive}},
		{"full", Member{Name: "edge-1", Region: "eu-west", PeerAddr: "10.0.0.1:8081", PublicAddr: "192.0.2.11",
			Weight: 3, State: StateDraining, VIPs: []string{"192.0.2.100/24", "2001:db8::10/64", "198.51.100.7", "vip-name"}},
			Member{Name: "edge-1", Region: "eu-west", PeerAddr: "10.0.0.1:8081", PublicAddr: "192.0.2.11",
				Weight: 3, State: StateDraining, VIPs: []string{"192.0.2.100/24", "2001:db8::10/64", "198.51.100.7", "vip-name"}}},
		{"ipv6 canonical", Member{Name: "b", State: StateNotReady, VIPs: []string{"2001:DB8:0::1/128"}},
			Member{Name: "b", State: StateNotReady, VIPs: []string{"2001:db8::1/128"}}},
		{"unknown state reads as not ready", Member{Name: "c", State: "retired"}, Member{Name: "c", State: StateNotReady}},
		{"origins down", Member{Name: "d", State: StateAlive, OriginsDown: 3}, Member{Name: "d", State: StateAlive, OriginsDown: 3}},
		{"origins down unknown", Member{Name: "e", State: StateAlive, OriginsDown: -1}, Member{Name: "e", State: StateAlive, OriginsDown: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf, err := encodeMeta(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeMeta(tt.in.Name, buf)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("round trip = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Metadata from a version before OriginsDown ends after the VIPs (before VNodes, after
// OriginsDown): the missing fields read as unknown.
func TestMeta_originsDownAbsentIsUnknown(t *testing.T) {
	buf, err := encodeMeta(Member{Name: "old", State: StateAlive, OriginsDown: 2, VNodes: 80, VIPs: []string{"192.0.2.1/24"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeMeta("old", buf[:len(buf)-2])
	if err != nil || m.OriginsDown != -1 || m.VNodes != 0 || len(m.VIPs) != 1 {
		t.Fatalf("decoded %+v, %v; want OriginsDown -1, VNodes 0 and the VIP", m, err)
	}
	m, err = decodeMeta("old", buf[:len(buf)-1])
	if err != nil || m.OriginsDown != 2 || m.VNodes != 0 || len(m.VIPs) != 1 {
		t.Fatalf("decoded %+v, %v; want OriginsDown 2, VNodes 0 and the VIP", m, err)
	}
	if m, err = decodeMeta("new", buf); err != nil || m.VNodes != 80 {
		t.Fatalf("decoded %+v, %v; want VNodes 80", m, err)
	}
}

func TestMeta_compactForTypicalNode(t *testing.T) {
	m := Member{Name: "edge-1", Region: "eu-west", PeerAddr: "10.0.0.1:8081", PublicAddr: "192.0.2.11",
		Weight: 1, State: StateAlive, VIPs: []string{"192.0.2.100/24", "192.0.2.101/24"}}
	buf, err := encodeMeta(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(buf) > 64 {
		t.Errorf("typical metadata takes %d bytes, want at most 64", len(buf))
	}
}

func TestMeta_tooLargeFailsClearly(t *testing.T) {
	var vips []string
	for i := range 40 {
		vips = append(vips, fmt.Sprintf("2001:db8:%x::1/64", i))
	}
	_, err := encodeMeta(Member{Name: "edge-1", VIPs: vips})
	if !errors.Is(err, errMetaTooLarge) || !strings.Contains(err.Error(), "512") {
		t.Fatalf("err = %v, want errMetaTooLarge naming the limit", err)
	}
	if _, err := New(confCluster(), Member{Name: "edge-1", VIPs: vips}, Options{}); !errors.Is(err, errMetaTooLarge) {
		t.Errorf("New accepted oversized metadata: %v", err)
	}
}

func TestMeta_decodeRejectsMalformed(t *testing.T) {
	good, _ := encodeMeta(Member{Name: "x", Region: "eu", VIPs: []string{"192.0.2.1/24"}})
	tests := []struct {
		name string
		buf  []byte
	}{
		{"empty", nil},
		{"future version", []byte{9, 0}},
		{"truncated", good[:len(good)-3]}, // into the VIP, before the two optional trailing fields
		{"string longer than buffer", []byte{1, 0, 1, 200, 'a'}},
		{"too many vips", []byte{1, 0, 1, 0, 0, 0, 100}},
		{"unknown vip kind", []byte{1, 0, 1, 0, 0, 0, 1, 99}},
		{"prefix too long", []byte{1, 0, 1, 0, 0, 0, 1, vipPrefix4, 10, 0, 0, 1, 33}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, err := decodeMeta("x", tt.buf); err == nil {
				t.Errorf("decoded %+v, want an error", m)
			}
		})
	}
}

func FuzzDecodeMeta(f *testing.F) {
	seed, _ := encodeMeta(Member{Name: "x", Region: "eu", PeerAddr: "a:1", VIPs: []string{"192.0.2.1/24", "::1", "t"}})
	f.Add(seed)
	f.Add([]byte{1, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, buf []byte) {
		m, err := decodeMeta("x", buf)
		if err != nil {
			return
		}
		// Whatever decodes must encode and decode to the same member.
		again, err := encodeMeta(m)
		if err != nil {
			return // a decoded member may exceed the limit only if the input did
		}
		back, err := decodeMeta("x", again)
		if err != nil || !reflect.DeepEqual(back, m) {
			t.Fatalf("re-decode = %+v, %v; want %+v", back, err, m)
		}
	})
}
