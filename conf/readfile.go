package conf

import (
	"fmt"
	"io"
	"os"
)

// The most bytes each kind of file the configuration names may hold.
const (
	MaxConfigBytes = 4 << 20  // the YAML file itself
	MaxSecretBytes = 64 << 10 // cluster.secret_file, accept_secret_files, purge.token_file
	MaxCertBytes   = 4 << 20  // a tls.certificates cert (with its chain) or key, PEM
	MaxPageBytes   = 1 << 20  // an error_pages file
)

// ReadFile reads the file at path whole, as os.ReadFile, if it is a regular file of at most
// limit bytes; what names it a "what" in the refusal. A device (/dev/zero), a pipe or a huge
// file named by mistake would otherwise be read until the kernel killed the process, at
// check, at start and at every reload, with nothing said.
func ReadFile(path string, limit int64, what string) ([]byte, error) {
	// Stat before open: opening a FIFO waits for a writer.
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a regular file", path, fileKind(st.Mode()))
	}
	if st.Size() > limit {
		return nil, tooLarge(path, st.Size(), limit, what)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit { // grew since the stat
		return nil, tooLarge(path, int64(len(data)), limit, what)
	}
	return data, nil
}

func tooLarge(path string, size, limit int64, what string) error {
	return fmt.Errorf("%s holds %d bytes; %s may hold at most %s", path, size, what, Size(limit))
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}
