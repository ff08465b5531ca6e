package cache

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// arenaMap is an arena's mapping and the memory file behind it.
type arenaMap struct {
	mem  []byte
	file *os.File
}

// mapArena creates a memory file of size bytes (memfd_create: pages are
// allocated as they are first written, and counted as the process's shared
// memory) and maps it. The file lets sendfile(2) send a body straight from
// it; the mapping is how everything else reads and writes it.
func mapArena(size int64) ([]byte, *os.File, error) {
	fd, err := unix.MemfdCreate("edgefront-cache", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, nil, fmt.Errorf("cache: RAM arena: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "edgefront-cache")
	if err := unix.Ftruncate(fd, size); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("cache: RAM arena of %d bytes: %w", size, err)
	}
	mem, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("cache: RAM arena of %d bytes: mmap: %w", size, err)
	}
	return mem, f, nil
}

// unmap releases the mapping and the file.
func (m arenaMap) unmap() {
	_ = unix.Munmap(m.mem)
	m.file.Close()
}

// punch removes n bytes at off from the memory file: their pages leave the
// file (whoever still refers to them, such as a socket sendfile(2) fed,
// keeps the old ones) and the range reads as zeros, backed by new pages
// once written.
func punch(f *os.File, off, n int64) error {
	if err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n); err != nil {
		return fmt.Errorf("cache: RAM arena: releasing %d bytes at %d: %w", n, off, err)
	}
	return nil
}
