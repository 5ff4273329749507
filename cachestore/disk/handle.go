package disk

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"
)

// Handle is one object found by Get. Its body stays readable until Close (not after: its bytes
// may be in a buffer Close gives back to a pool), even if the object
// is evicted or banned meanwhile (the segment file stays open, unlinked, with only the
// records open Handles read still allocated: pin.go). Close it exactly
// once; a Handle is not safe for concurrent Close, but ReadAt may be called concurrently.
type Handle struct {
	Key          string
	URL          string
	Tags         []string
	Head         []byte // the response head stored with the record; nil after GetNoHead until ReadHead. Its own allocation, which the tier never writes again and never reuses: a caller may alias it (unsafe.String) for as long as it likes
	RequestTime  time.Time
	ResponseTime time.Time
	Expires      time.Time // absolute, as stored: the object keeps its remaining freshness across restarts
	Generation   uint64
	SoftPurged   bool // a soft ban matched it: serve it only while revalidating

	d       *Disk // told of a read that fails (disable), as Get is
	seg     *segment
	mem     []byte  // the body, when Get has just read it to verify it; else nil
	memBuf  *[]byte // mem's pooled buffer, put back at Close (get.go)
	recOff  int64   // the record's start in seg: what the Handle holds (pin.go)
	headOff int64
	bodyOff int64
	bodyLen int64
	closed  atomic.Bool
}

// File returns the segment file holding the body, for sendfile: send BodyLength bytes from
// BodyOffset. It is nil when the tier runs on a file system that is not the OS's (tests).
// Do not close it, seek it, or use it after Close.
func (h *Handle) File() *os.File {
	f, _ := h.seg.f.(*os.File)
	return f
}

// RecordID names one stored record: the same for every Get of it, and never that of another
// record while the process runs (segments are numbered upwards and appended to only), so a
// new fill of the same key, or the freshened copy a 304 stores, has another. It lets a
// caller keep what it decoded from a record's head across Gets.
type RecordID struct {
	Segment uint64
	Offset  int64
}

// Record is the ID of the record this Handle reads.
func (h *Handle) Record() RecordID { return RecordID{Segment: h.seg.id, Offset: h.recOff} }

// ReadHead returns the stored response head, reading it from the segment when the Handle
// has none yet (GetNoHead), and keeps it in Head. An I/O error turns the tier off, as in Get.
func (h *Handle) ReadHead() ([]byte, error) {
	if h.Head != nil {
		return h.Head, nil
	}
	head := make([]byte, h.bodyOff-h.headOff)
	if _, err := h.seg.f.ReadAt(head, h.headOff); err != nil {
		h.failed(err)
		return nil, fmt.Errorf("disk: reading the head of %q: %w", h.Key, err)
	}
	h.Head = head
	return head, nil
}

// failed turns the tier off after a read through h failed: the record's bytes are within
// its segment, which stays open while h is, so any error is the disk's (io.EOF included:
// the file is shorter than the index says).
func (h *Handle) failed(err error) {
	if h.d != nil && !h.seg.retired.Load() { // not a file the tier let go of when it came back (revive.go)
		h.d.disable("read", err)
	}
}

// ReadFailed tells the tier that a read of this Handle's body that went around the Handle
// (sendfile(2) from File) failed on the file's side: EIO, or a file shorter than the record.
// It turns the tier off, as a failed Get or ReadAt does. Errors of the other side (the
// client's socket) must not be passed here.
func (h *Handle) ReadFailed(err error) { h.failed(err) }

// BodyOffset is the byte offset of the body in File.
func (h *Handle) BodyOffset() int64 { return h.bodyOff }

// BodyLength is the body's length in bytes.
func (h *Handle) BodyLength() int64 { return h.bodyLen }

// ReadAt reads the body from offset off (relative to the body's start), as io.ReaderAt:
// io.EOF past the body's end. An I/O error turns the tier off, as in Get.
func (h *Handle) ReadAt(p []byte, off int64) (int, error) {
	if off >= h.bodyLen {
		return 0, io.EOF
	}
	if h.mem != nil {
		n := copy(p, h.mem[off:])
		if n < len(p) {
			return n, io.EOF
		}
		return n, nil
	}
	short := false
	if rest := h.bodyLen - off; int64(len(p)) > rest {
		p, short = p[:rest], true
	}
	n, err := h.seg.f.ReadAt(p, h.bodyOff+off)
	if err != nil {
		h.failed(err)
		return n, err
	}
	if short {
		return n, io.EOF
	}
	return n, nil
}

// Body is the body as an io.SectionReader (Read, Seek, ReadAt); for HTTP/2 and for copies.
func (h *Handle) Body() *io.SectionReader { return io.NewSectionReader(h, 0, h.bodyLen) }

// Close releases the segment. If the record was evicted meanwhile, its bytes leave the disk
// now (unless another Handle still reads them). A second Close returns an error and does
// nothing.
func (h *Handle) Close() error {
	if !h.closed.CompareAndSwap(false, true) {
		return fmt.Errorf("disk: handle of %q closed twice", h.Key)
	}
	if h.memBuf != nil {
		h.mem = nil
		verifyBufs.Put(h.memBuf)
		h.memBuf = nil
	}
	h.seg.unhold(h.recOff)
	return nil
}
