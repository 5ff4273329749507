package disk

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// heldWritesFS holds every write to a segment file until release closes: the writer
// goroutine stops inside the record queued first, while bans (their own log file) go on.
type heldWritesFS struct {
	entered chan struct{} // closed at the first held write
	release chan struct{}
}

func (fs *heldWritesFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(name, segmentExt) {
		return f, nil
	}
	return &heldWriteFile{File: f, fs: fs}, nil
}

type heldWriteFile struct {
	*os.File
	fs *heldWritesFS
}

func (f *heldWriteFile) WriteAt(p []byte, off int64) (int, error) {
	select {
	case <-f.fs.entered:
	default:
		close(f.fs.entered)
	}
	<-f.fs.release
	return f.File.WriteAt(p, off)
}

// A record queued before a ban and written after it (the writer was busy, as under load) is
// refused at write time, for every kind of ban, while an unrelated record queued with it is
// served: the ban judges what the writer publishes, not only what the index held when it came.
func TestDisk_banRefusesARecordQueuedBeforeIt(t *testing.T) {
	const url = "http://www.example.com/old"
	for _, ban := range []Ban{
		{Kind: BanKey, Value: url + "\x00v=1"},
		{Kind: BanURL, Value: url},
		{Kind: BanPrefix, Value: "http://www.example.com/o"},
		{Kind: BanTag, Value: "product-1"},
		{Kind: BanAll},
	} {
		t.Run(ban.Kind.String(), func(t *testing.T) {
			fs := &heldWritesFS{entered: make(chan struct{}), release: make(chan struct{})}
			d, _ := open(t, Config{Path: t.TempDir(), Size: 16 << 20, fs: fs})
			defer d.Close()
			first := rec("first", 100) // holds the writer
			first.Generation = d.Begin()
			d.Put(first)
			<-fs.entered
			old := rec(url+"\x00v=1", 100)
			old.URL, old.Tags, old.Generation = url, []string{"product-1"}, d.Begin()
			if !d.Put(old) {
				t.Fatal("Put refused")
			}
			d.AddBan(ban)
			after := rec("after", 100)
			after.Generation = d.Begin()
			d.Put(after)
			close(fs.release)
			d.Wait()
			if h, err := d.Get(old.Key); !errors.Is(err, ErrNotFound) {
				if err == nil {
					h.Close()
				}
				t.Fatalf("record queued before the %s ban: %v, want refused", ban.Kind, err)
			}
			mustGet(t, d, "after", 100)
		})
	}
}
