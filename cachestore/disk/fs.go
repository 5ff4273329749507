package disk

import (
	"io"
	"os"
)

// file is what the tier needs of a segment or log file. *os.File is one; tests wrap it to
// inject I/O errors.
type file interface {
	io.ReaderAt
	io.WriterAt
	Truncate(size int64) error
	Sync() error
	Close() error
	Stat() (os.FileInfo, error)
}

// fsys opens files of the tier's directory. The zero Config uses the operating system's.
type fsys interface {
	OpenFile(name string, flag int, perm os.FileMode) (file, error)
}

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // a nil *os.File must not become a non-nil interface
	}
	return f, nil
}
