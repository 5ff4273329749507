package disk

// The tier's directory holds segment files and, beside them, the unlinked spool files of
// Writers in flight. Both count against Size: a burst of large streamed fills on a full tier
// would otherwise put one spool per fill on top of full segments.
//
// The invariant is used + reserved + pinned <= Size, where pinned is what reclaimed
// segments still hold for open Handles (pin.go) and reserved is the bytes promised but not yet
// in a segment: each Writer's spool (its announced length, or what it has written rounded
// up to spoolStep) and the record the writer goroutine is about to append. Every increase of
// used + reserved goes through claim, under roomMu; a promise kept moves from reserved to
// used in one step (settle), and decreases need no lock. While the writer copies a committed
// spool into a segment both exist and both are counted (the spool's reservation is released
// only once its file is closed), so the directory never exceeds Size, at the price of
// reclaiming one record's room early. A Writer that finds no room is refused (it cannot
// reclaim: only the writer goroutine changes segments) and asks the writer to make room for
// the next one (askRoom).

// spoolStep is how much room a Writer of unknown length reserves at a time.
const spoolStep = 1 << 20

// claim reserves n bytes of room if they fit in Size.
func (d *Disk) claim(n int64) bool {
	d.roomMu.Lock()
	defer d.roomMu.Unlock()
	if d.used.Load()+d.reserved.Load()+d.pinned.Load()+n > d.cfg.Size {
		return false
	}
	d.reserved.Add(n)
	return true
}

// unclaim gives back room claimed and not used.
func (d *Disk) unclaim(n int64) {
	if n != 0 {
		d.reserved.Add(-n)
	}
}

// settle turns k claimed bytes into k bytes of segment.
func (d *Disk) settle(k int64) {
	d.roomMu.Lock()
	d.used.Add(k)
	d.reserved.Add(-k)
	d.roomMu.Unlock()
}

// askRoom has the writer goroutine reclaim until n more bytes fit: a Writer refused for lack
// of room cannot reclaim itself (only the writer changes segments), so the next one finds
// it. At most one request is queued at a time; it never blocks.
func (d *Disk) askRoom(n int64) {
	if !d.roomAsked.CompareAndSwap(false, true) {
		return
	}
	d.closeMu.RLock()
	defer d.closeMu.RUnlock()
	if d.closed {
		return
	}
	select {
	case d.queue <- &pending{room: n}:
	default:
		d.roomAsked.Store(false)
	}
}
