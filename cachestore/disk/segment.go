package disk

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

const segmentExt = ".seg"

// segment is one append-only file. The store holds one reference until the segment is
// reclaimed or the store closes; each open Handle holds another, so a reclaimed segment's
// file stays readable (unlinked) until the last Handle on it closes.
type segment struct {
	id   uint64
	path string
	f    file
	refs atomic.Int32

	// Guarded by Disk.mu.
	size    int64    // bytes of valid records; the writer appends here
	entries []*entry // records in append order, including ones replaced or banned since
	minGen  uint64   // lowest generation of any record in it: bans below it can be forgotten

	written int64 // writer only: bytes handed to startWriteback so far
	synced  int64 // writer only: the offset the last checkpoint made durable (synced.go)

	h       holds         // records open Handles read (pin.go)
	retired atomic.Bool   // left behind when the tier came back after a failure (revive.go)
	memory  bool          // on tmpfs or ramfs: every page in memory (resident.go); set when opened
	pin     *atomic.Int64 // Disk.pinned, once reclaimed (pin.go)
}

// writebackChunk is how many bytes are written before the kernel is asked to start writing
// them back, so that the fsync that seals a segment (up to 1 GiB) finds little left to do
// and does not stall the writer for seconds.
const writebackChunk = 8 << 20

// startWriteback asks the kernel to start writing [written, pos) to the device without
// waiting for it (sync_file_range SYNC_FILE_RANGE_WRITE). It is a hint: errors are ignored,
// and files that are not the OS's are skipped.
func (s *segment) startWriteback(pos int64) {
	if pos-s.written < writebackChunk {
		return
	}
	if f, ok := s.f.(*os.File); ok {
		startWritebackRange(f.Fd(), s.written, pos-s.written)
	}
	s.written = pos
}

func segmentPath(dir string, id uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%016x%s", id, segmentExt))
}

func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.f.Close()
		s.dropPin()
	}
}

// listSegments returns the ids of the segment files in dir, oldest first.
func listSegments(dir string) ([]uint64, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), segmentExt)
		if !ok || de.IsDir() {
			continue
		}
		id, err := strconv.ParseUint(name, 16, 64)
		if err != nil {
			continue
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}
