package disk

import (
	"fmt"
	"os"
	"path/filepath"
)

// CheckPath tells `shoal check` whether path can hold the tier: it creates the directory if
// missing and writes, syncs and removes a small file in it. It changes nothing else.
func CheckPath(path string) error {
	if path == "" {
		return fmt.Errorf("disk: path is empty")
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return fmt.Errorf("disk: path %s: %w", path, err)
	}
	f, err := os.CreateTemp(path, ".check-*")
	if err != nil {
		return fmt.Errorf("disk: path %s is not writable: %w", path, err)
	}
	defer os.Remove(filepath.Join(path, filepath.Base(f.Name())))
	defer f.Close()
	if _, err := f.Write(make([]byte, 4096)); err != nil {
		return fmt.Errorf("disk: writing to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("disk: syncing in %s: %w", path, err)
	}
	return nil
}
