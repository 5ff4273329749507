package disk

import (
	"fmt"
	"os"
	"path/filepath"
)

// CheckPath tells `shoal check` whether path can hold the tier: it must be an existing
// directory (Open does not create it, see openDir) in which a small file can be written,
// synced and removed. It changes nothing else.
func CheckPath(path string) error {
	if path == "" {
		return fmt.Errorf("disk: path is empty")
	}
	if err := isDir(path); err != nil {
		return fmt.Errorf("disk: %w", err)
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

// isDir returns an error naming path unless it is an existing directory.
func isDir(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cache directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("cache directory %s is not a directory", path)
	}
	return nil
}
