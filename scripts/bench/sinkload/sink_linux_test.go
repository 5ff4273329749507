package main

import (
	"bytes"
	"testing"
)

// The body's bytes ('a') never reach the discarding sink's buffer: the kernel dropped them.
func TestTruncSink_bodyBytesAreNotCopied(t *testing.T) {
	n, _ := servers(t)
	c := dial(t, n.Addr)
	s, ok := c.sink.(*truncSink)
	if !ok {
		t.Fatalf("sink is %T, want *truncSink on Linux", c.sink)
	}
	resp, err := c.roundTrip(get("/256k.bin"))
	if err != nil || resp.body != size256k {
		t.Fatalf("got %+v, %v", resp, err)
	}
	if i := bytes.IndexByte(s.scratch, 'a'); i >= 0 {
		t.Fatalf("body byte copied to scratch[%d]", i)
	}
}
