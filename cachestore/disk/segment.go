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
}

func segmentPath(dir string, id uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%016x%s", id, segmentExt))
}

func (s *segment) acquire() { s.refs.Add(1) }

func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.f.Close()
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
