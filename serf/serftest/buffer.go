package serftest

import (
	"bytes"
	"strings"
	"sync"
)

// SyncBuffer is a bytes.Buffer that writers (a logger, a UI, a copier of a
// process's output) and readers on other goroutines may share.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Contains reports whether what was written so far contains s.
func (b *SyncBuffer) Contains(s string) bool {
	return strings.Contains(b.String(), s)
}
