package main

import (
	"errors"
	"io"
	"net"
)

// copyChunk is the copying sink's read size (wrk's own buffer is 8 KiB).
const copyChunk = 64 << 10

// copySink drops body bytes by reading them into a buffer it then ignores: the fallback where
// recv cannot discard in the kernel. It costs the copy this client exists to avoid.
type copySink struct {
	c   net.Conn
	buf []byte
}

func (s *copySink) discard(n int64) (int64, error) {
	got, err := s.c.Read(s.buf[:min(n, int64(len(s.buf)))])
	if errors.Is(err, io.EOF) {
		return int64(got), nil // the peer's close: 0 bytes (or the last ones) and no error
	}
	return int64(got), err
}
