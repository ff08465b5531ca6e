//go:build !linux

package cache

import "os"

// arenaMap is an arena's memory.
type arenaMap struct {
	mem  []byte
	file *os.File
}

// mapArena gives an arena plain heap memory where there is no memfd: the
// bodies are then on the Go heap (one object, not scanned) and RAM hits
// are written from it rather than sent with sendfile(2).
func mapArena(size int64) ([]byte, *os.File, error) {
	return make([]byte, size), nil, nil
}

// unmap leaves the memory to the garbage collector.
func (arenaMap) unmap() {}

// punch is never called without a memory file.
func punch(*os.File, int64, int64) error { return nil }
