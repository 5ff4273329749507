package disk

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
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

// LastActive is the latest modification time of dir and of the files in it: no later than
// when the tier that used it last wrote there, or when the node running it last touched the
// directory (the edge does every 30 s while the tier is on). Zero for an empty or missing
// directory: nothing to load, nothing missed. A probe of an unusable directory leaves it as
// it was (probeDir).
func LastActive(dir string) time.Time {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return time.Time{}
	}
	var last time.Time
	if info, err := os.Stat(dir); err == nil {
		last = info.ModTime()
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.ModTime().After(last) {
			last = info.ModTime()
		}
	}
	return last
}
