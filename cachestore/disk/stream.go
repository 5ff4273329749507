package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

// Writer streams the body of one record to the tier, for objects too large to hold in
// memory whole: Write the body as it arrives, then Commit, or Abort. Until the writer
// goroutine has copied a committed record into a segment and indexed it, Get does not find
// it; a body that was aborted, cut short or grew past its limit is never visible.
//
// The body is spooled into an unlinked file in the tier's directory, not appended to the
// active segment directly: a segment has one writer and its records are contiguous, so a
// record reserved there while a slow origin trickles its body would hold back every other
// write (or leave a hole that the loader cuts the segment at after a crash). The spool costs
// a second write of the bytes, mostly absorbed by the page cache, and holds no more memory
// than the caller's chunk; being unlinked, it leaves nothing behind after a crash.
//
// A Writer is used by one goroutine.
type Writer struct {
	d       *Disk
	rec     Record
	gen     uint64
	length  int64 // announced body length in bytes, -1 when unknown
	limit   int64 // largest body that fits in MaxObjectSize
	fixed   int64 // record bytes besides the body
	sp      *spool
	n       int64
	err     error
	settled bool // committed or aborted
}

// spool is a Writer's file and the room it holds: apart from the Writer, so that a Writer
// dropped without Commit or Abort (a caller's bug) gives both back when it is collected
// instead of holding room in Size for good.
type spool struct {
	f    *os.File
	room int64 // bytes of Size claimed for the spool (room.go): fixed + what the body may reach
	held bool  // f and room are the Writer's still (not failed, not handed to the writer goroutine)
}

// release closes the file and gives back the room, once.
func (sp *spool) release(d *Disk) {
	if sp.held {
		sp.held = false
		sp.f.Close()
		d.unclaim(sp.room)
		sp.room = 0
	}
}

var (
	errTooLarge  = errors.New("disk: body larger than max_object_size")
	errTruncated = errors.New("disk: body shorter than announced")
	errSettled   = errors.New("disk: writer already committed or aborted")
	errNoSpool   = errors.New("disk: no room in size for the spool")
)

// NewWriter starts streaming rec (its Body is ignored) with a body of length bytes, -1 when
// the length is unknown. It reports false, with nothing to clean up, when the tier would
// not take the record: disabled or closed, larger than MaxObjectSize, refused by admission
// while full, no room in Size for the spool (spools count against Size: the length
// announced, or spoolStep at a time when unknown; the writer goroutine is then asked to
// make room for the next one), or the spool file cannot be created.
func (d *Disk) NewWriter(rec Record, length int64) (*Writer, bool) {
	if d.disabled.Load() {
		return nil, false
	}
	fixed := int64(headerSize + len(rec.Key) + len(rec.URL) + len(rec.Head))
	for _, t := range rec.Tags {
		fixed += int64(2 + len(t))
	}
	if !d.accepts(rec.Key, fixed+max(length, 0)) {
		return nil, false
	}
	room := fixed + length
	if length < 0 {
		room = min(fixed+spoolStep, d.cfg.MaxObjectSize)
	}
	if !d.claim(room) {
		d.askRoom(room)
		d.rejected[rejectRoom].Add(1)
		return nil, false
	}
	f, err := os.CreateTemp(d.cfg.Path, "spool-*")
	if err != nil {
		d.unclaim(room)
		d.spoolFailed(fmt.Errorf("creating a spool file: %w", err))
		return nil, false
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		d.unclaim(room)
		d.spoolFailed(fmt.Errorf("unlinking a spool file: %w", err))
		return nil, false
	}
	gen := rec.Generation
	if gen == 0 {
		gen = d.gen.Load()
	}
	rec.Body = nil
	w := &Writer{d: d, rec: rec, gen: gen, length: length, limit: d.cfg.MaxObjectSize - fixed, fixed: fixed,
		sp: &spool{f: f, room: room, held: true}}
	runtime.AddCleanup(w, func(sp *spool) { sp.release(d) }, w.sp) // a no-op once settled
	return w, true
}

// Write appends body bytes. After an error (the body outgrew its announced length or
// MaxObjectSize, or the spool failed) the record is abandoned: Write keeps returning the
// error and Commit stores nothing. The caller's bytes are not kept.
func (w *Writer) Write(p []byte) (int, error) {
	switch {
	case w.err != nil:
		return 0, w.err
	case w.settled:
		return 0, errSettled
	case w.n+int64(len(p)) > w.limit || w.length >= 0 && w.n+int64(len(p)) > w.length:
		w.fail(errTooLarge)
		return 0, w.err
	}
	if need := w.fixed + w.n + int64(len(p)) - w.sp.room; need > 0 {
		// Unknown length: the spool claims its room a step at a time, never past the limit.
		more := min(max(need, spoolStep), w.d.cfg.MaxObjectSize-w.sp.room)
		if !w.d.claim(more) {
			w.d.askRoom(more)
			w.d.rejected[rejectRoom].Add(1)
			w.fail(errNoSpool)
			return 0, w.err
		}
		w.sp.room += more
	}
	k, err := w.sp.f.Write(p)
	w.n += int64(k)
	if err != nil {
		w.fail(fmt.Errorf("disk: spooling: %w", err))
		w.d.spoolFailed(w.err)
		return k, w.err
	}
	return k, nil
}

// spoolFailed turns the tier off after a spool file could not be created or written: the
// directory is full, gone, read-only or failing, as a segment write would find it (and the
// tier comes back when it is usable again). Only the process's own limit on open files is
// not the directory's fault.
func (d *Disk) spoolFailed(err error) {
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		d.log.Warn("disk: spool file", "err", err)
		return
	}
	d.disable("spool", err)
}

// fail abandons the record: the spool's file and its room are released.
func (w *Writer) fail(err error) {
	w.err = err
	w.sp.release(w.d)
}

// Commit queues the record for the writer goroutine and reports whether it was queued. A
// body shorter than the announced length, or a Writer that failed, is dropped. It never
// blocks on I/O.
func (w *Writer) Commit() bool {
	if w.settled {
		return false
	}
	w.settled = true
	if w.err == nil && w.length >= 0 && w.n != w.length {
		w.fail(errTruncated)
	}
	if w.err != nil {
		return false
	}
	d := w.d
	// The writer goroutine releases the spool's room once it has closed the file.
	p := &pending{rec: w.rec, gen: w.gen, body: w.sp.f, bodyLen: w.n, reserved: w.sp.room}
	d.closeMu.RLock()
	defer d.closeMu.RUnlock()
	if d.closed || d.disabled.Load() {
		w.fail(errSettled)
		return false
	}
	select {
	case d.queue <- p:
		w.sp.held = false // the writer goroutine's now
		return true
	default:
		w.fail(errSettled)
		d.rejected[rejectQueue].Add(1)
		return false
	}
}

// Abort drops the record. It may be called after Commit (it then does nothing), so a
// caller can defer it.
func (w *Writer) Abort() {
	if w.settled {
		return
	}
	w.settled = true
	if w.err == nil {
		w.fail(errTruncated)
	}
}

// streamChunk is the buffer the writer goroutine copies a spooled body through.
const streamChunk = 256 << 10

// writeSpool appends a record whose body is not in memory: header and metadata, head, then
// the body copied from its spool (or, for PutFrom, from the record it refreshes) while the
// checksum is computed, and the header's checksum written last.
// Until the record is indexed nothing reads those bytes; a crash before then leaves a record
// whose checksum does not match, which the loader cuts.
func (d *Disk) writeSpool(p *pending) {
	start := time.Now()
	hdr, dig, err := startHeader(&p.rec, p.gen, p.bodyLen)
	if err != nil {
		d.rejected[rejectSize].Add(1)
		return
	}
	n := int64(len(hdr)+len(p.rec.Head)) + p.bodyLen
	// Claimed while the spool's own room is still held: both files exist until the copy ends.
	if !d.roomFor(n) {
		return
	}
	s, err := d.segmentFor(n)
	if err != nil {
		d.disable("write", err)
		return
	}
	off := s.size // only this goroutine changes s.size
	pos := off + int64(len(hdr))
	if _, err := s.f.WriteAt(p.rec.Head, pos); err != nil {
		d.disable("write", fmt.Errorf("appending to %s: %w", s.path, err))
		return
	}
	pos += int64(len(p.rec.Head))
	buf := make([]byte, streamChunk)
	for done := int64(0); done < p.bodyLen; {
		k, err := p.body.ReadAt(buf[:min(int64(len(buf)), p.bodyLen-done)], done)
		if k == 0 && err != nil {
			d.log.Warn("disk: reading a spooled body back", "key", p.rec.Key, "err", err)
			d.unclaim(n)
			return // nothing published: the next record overwrites these bytes
		}
		dig.Write(buf[:k])
		if _, err := s.f.WriteAt(buf[:k], pos); err != nil {
			d.disable("write", fmt.Errorf("appending to %s: %w", s.path, err))
			return
		}
		pos += int64(k)
		done += int64(k)
	}
	binary.LittleEndian.PutUint64(hdr[72:], dig.Sum64())
	if _, err := s.f.WriteAt(hdr, off); err != nil {
		d.disable("write", fmt.Errorf("appending to %s: %w", s.path, err))
		return
	}
	m, err := decodeHeader(hdr, 1<<62)
	if err == nil {
		err = decodeMeta(m, hdr, hdr[headerSize:])
	}
	if err != nil {
		d.log.Error("disk: record does not decode", "key", p.rec.Key, "err", err) // a bug, not an input
		return
	}
	d.appended(s, off, pos)
	e := newEntry(m, s, off)
	e.verified.Store(true)
	d.index1(e)
	d.met.write.Observe(time.Since(start).Seconds())
}
