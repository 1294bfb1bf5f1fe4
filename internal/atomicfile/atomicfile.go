// Package atomicfile rewrites small state files (the keyring file, the tags
// file) so that a crash or a concurrent writer can never leave a torn one:
// the new contents go to a temporary file in the same directory, which is
// synced, renamed over the target and followed by a sync of the directory.
// A reader therefore sees either the old file or the new one, whole.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Writer serialises the rewrites of one file: keep one Writer per file,
// next to whatever owns the file. The zero value is ready to use.
type Writer struct {
	mu sync.Mutex
}

// Rewrite replaces the file at path with what render returns. render runs
// under the Writer's lock, so contents computed from live state are never
// overtaken by an older rendering. A new file gets perm; an existing file
// keeps its mode. If render fails the file is left untouched.
func (w *Writer) Rewrite(path string, perm os.FileMode, render func() ([]byte, error)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	data, err := render()
	if err != nil {
		return err
	}
	return WriteFile(path, data, perm)
}

// WriteFile atomically replaces the file at path with data. It does not
// serialise callers; use a Writer for that. A new file gets perm; an
// existing file keeps its mode.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		perm = fi.Mode().Perm()
	}
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeTemp writes data to a new, synced temporary file beside path and
// returns its name. This is everything up to the rename: a crash after it
// leaves the target as it was.
func writeTemp(path string, data []byte, perm os.FileMode) (name string, err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return "", err
	}
	name = f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(name)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return "", err
	}
	if _, err = f.Write(data); err != nil {
		return "", err
	}
	if err = f.Sync(); err != nil {
		return "", err
	}
	if err = f.Close(); err != nil {
		return "", fmt.Errorf("close %s: %w", name, err)
	}
	return name, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	return d.Sync()
}
