package h2

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// FuzzServer_frames feeds arbitrary bytes after a valid preface and SETTINGS to one
// connection of a server with synchronous, detached and streaming handlers: whatever the
// bytes, the server must not panic, and the connection must end once the peer closes.
func FuzzServer_frames(f *testing.F) {
	var seed bytes.Buffer
	fr := http2.NewFramer(&seed, nil)
	block := encodeBlock(":method", "GET", ":scheme", "http", ":path", "/", ":authority", "x")
	post := encodeBlock(":method", "POST", ":scheme", "http", ":path", "/e", "content-length", "3")
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndStream: true, EndHeaders: true})
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: post, EndHeaders: true})
	fr.WriteData(3, true, []byte("abc"))
	fr.WriteWindowUpdate(0, 100)
	fr.WriteRSTStream(3, http2.ErrCodeCancel)
	fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1})
	fr.WritePing(false, [8]byte{1})
	f.Add(seed.Bytes())
	seed.Reset()
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: block[:3], EndStream: true})
	fr.WriteContinuation(5, true, block[3:])
	fr.WritePriority(7, http2.PriorityParam{StreamDep: 7})
	fr.WriteGoAway(0, http2.ErrCodeNo, nil)
	f.Add(seed.Bytes())

	srv, err := NewServer(Config{StallTimeout: 50 * time.Millisecond, IdleTimeout: time.Second}, testHandler{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			srv.ServeConn(server)
			close(done)
		}()
		go io.Copy(io.Discard, client)
		var in bytes.Buffer
		in.WriteString(http2.ClientPreface)
		http2.NewFramer(&in, nil).WriteSettings()
		in.Write(data)
		client.SetWriteDeadline(time.Now().Add(time.Second))
		client.Write(in.Bytes())
		time.Sleep(time.Millisecond)
		client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("connection did not end after the peer closed")
		}
	})
}
