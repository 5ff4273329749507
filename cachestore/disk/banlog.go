package disk

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cespare/xxhash/v2"
)

const (
	banLogName = "bans.log"
	softBit    = 0x80 // in the kind byte: a soft ban
)

// banLog is the persisted list of bans: records of [u32 length][u64 xxhash][kind u8, generation
// u64, time i64, value], appended and fsynced one per ban (purges are rare and must survive a
// crash). A torn tail is truncated at load like a segment's.
type banLog struct {
	fs   fsys
	path string
	f    file
	off  int64
}

func encodeBan(b *Ban) []byte {
	p := make([]byte, 12+17+len(b.Value))
	le := binary.LittleEndian
	q := p[12:]
	q[0] = byte(b.Kind)
	if b.Soft {
		q[0] |= softBit
	}
	le.PutUint64(q[1:], b.Generation)
	le.PutUint64(q[9:], uint64(unixNano(b.Time)))
	copy(q[17:], b.Value)
	le.PutUint32(p[0:], uint32(len(q)))
	le.PutUint64(p[4:], xxhash.Sum64(q))
	return p
}

// openBanLog reads the log in dir and opens it for appending. It returns the bans in log
// order; a bad record ends the log and is cut off.
func openBanLog(fs fsys, dir string) (*banLog, []*Ban, error) {
	path := filepath.Join(dir, banLogName)
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, nil, fmt.Errorf("reading ban log: %w", err)
	}
	var bans []*Ban
	off := 0
	le := binary.LittleEndian
	for off+12 <= len(data) {
		n := int(le.Uint32(data[off:]))
		if n < 17 || off+12+n > len(data) {
			break
		}
		q := data[off+12 : off+12+n]
		if xxhash.Sum64(q) != le.Uint64(data[off+4:]) {
			break
		}
		bans = append(bans, &Ban{Kind: BanKind(q[0] &^ softBit), Soft: q[0]&softBit != 0, Generation: le.Uint64(q[1:]),
			Time: fromNano(int64(le.Uint64(q[9:]))), Value: string(q[17:])})
		off += 12 + n
	}
	f, err := fs.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("opening ban log: %w", err)
	}
	if off < len(data) {
		if err := f.Truncate(int64(off)); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("truncating ban log's torn tail: %w", err)
		}
	}
	return &banLog{fs: fs, path: path, f: f, off: int64(off)}, bans, nil
}

func (l *banLog) append(b *Ban) error {
	p := encodeBan(b)
	if _, err := l.f.WriteAt(p, l.off); err != nil {
		return fmt.Errorf("appending to ban log: %w", err)
	}
	l.off += int64(len(p))
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("syncing ban log: %w", err)
	}
	return nil
}

// rewrite replaces the log with a mark of generation gen followed by bans, through a
// temporary file and a rename, so a crash leaves either the old log or the new one.
func (l *banLog) rewrite(bans []*Ban, gen uint64) error {
	tmp := l.path + ".tmp"
	f, err := l.fs.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("compacting ban log: %w", err)
	}
	buf := encodeBan(&Ban{Kind: banMark, Generation: gen, Time: time.Now()})
	for _, b := range bans {
		buf = append(buf, encodeBan(b)...)
	}
	if _, err := f.WriteAt(buf, 0); err != nil {
		f.Close()
		return fmt.Errorf("compacting ban log: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("compacting ban log: %w", err)
	}
	if err := os.Rename(tmp, l.path); err != nil {
		f.Close()
		return fmt.Errorf("compacting ban log: %w", err)
	}
	l.f.Close()
	l.f, l.off = f, int64(len(buf))
	return nil
}

func (l *banLog) close() error { return l.f.Close() }
