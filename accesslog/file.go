package accesslog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// File is an append-only log file that rotates by size: when a write would
// make it larger than MaxSize, it is renamed to name.YYYY-MM-DD-HH-MM-SS
// (UTC; with .1, .2 … if that name is taken), a new file is started and
// only the Keep newest rotated files are kept. Its methods are safe for
// concurrent use.
type File struct {
	path    string
	maxSize int64 // 0: never rotate
	keep    int   // rotated files kept; 0 keeps all
	now     func() time.Time

	mu     sync.Mutex
	f      *os.File
	size   int64
	header []byte
}

// OpenFile opens (creating, appending) the log file at path. maxSize 0
// disables rotation; keep 0 keeps every rotated file.
func OpenFile(path string, maxSize int64, keep int) (*File, error) {
	if maxSize < 0 || keep < 0 {
		return nil, errors.New("access log file: maxSize and keep must not be negative")
	}
	f := &File{path: path, maxSize: maxSize, keep: keep, now: time.Now}
	if err := f.open(); err != nil {
		return nil, err
	}
	return f, nil
}

// setHeader sets the lines every new file starts with and writes them now
// if the file is empty.
func (f *File) setHeader(h []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.header = h
	f.writeHeader()
}

func (f *File) open() error {
	file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open access log: %w", err)
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return fmt.Errorf("open access log: %w", err)
	}
	f.f, f.size = file, st.Size()
	f.writeHeader()
	return nil
}

func (f *File) writeHeader() {
	if f.size == 0 && len(f.header) > 0 && f.f != nil {
		n, _ := f.f.Write(f.header)
		f.size += int64(n)
	}
}

// Write appends p, rotating whenever the next whole line would take the
// file past its maximum size; p holds whole lines, as the Logger writes
// them. A file holding only its header takes at least one line, however
// long.
func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	written := 0
	for len(p) > 0 {
		if f.f == nil {
			return written, errors.New("access log: file is closed")
		}
		chunk := p
		if f.maxSize > 0 && f.size+int64(len(p)) > f.maxSize {
			room := f.maxSize - f.size
			cut := bytes.LastIndexByte(p[:min(int64(len(p)), max(room, 0))], '\n') + 1
			if cut == 0 && f.size > int64(len(f.header)) {
				if err := f.rotate(); err != nil {
					return written, err
				}
				continue
			}
			if cut == 0 { // one line longer than a whole file: write it alone
				cut = bytes.IndexByte(p, '\n') + 1
				if cut == 0 {
					cut = len(p)
				}
			}
			chunk = p[:cut]
		}
		n, err := f.f.Write(chunk)
		f.size += int64(n)
		written += n
		if err != nil {
			return written, fmt.Errorf("write access log: %w", err)
		}
		p = p[n:]
	}
	return written, nil
}

// Reopen closes the file and opens path again, for a file moved away by
// an external rotation.
func (f *File) Reopen() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f != nil {
		f.f.Close()
		f.f = nil
	}
	return f.open()
}

// Close closes the file.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		return nil
	}
	err := f.f.Close()
	f.f = nil
	return err
}

func (f *File) rotate() error {
	if err := f.f.Close(); err != nil {
		return fmt.Errorf("rotate access log: %w", err)
	}
	f.f = nil
	// A rotation within the same second as an earlier one takes the next
	// .N after every name of that second, so names keep sorting by age
	// even after pruning freed a lower one.
	stamp := f.now().UTC().Format("2006-01-02-15-04-05")
	name := f.path + "." + stamp
	rotated, err := f.Rotated()
	if err != nil {
		return err
	}
	next := 0
	for _, r := range rotated {
		if s, n := splitRotated(r, f.path); s == stamp {
			next = max(next, n+1)
		}
	}
	if next > 0 {
		name = fmt.Sprintf("%s.%d", name, next)
	}
	if err := os.Rename(f.path, name); err != nil {
		return fmt.Errorf("rotate access log: %w", err)
	}
	if err := f.open(); err != nil {
		return err
	}
	return f.prune()
}

// prune removes the oldest rotated files beyond keep.
func (f *File) prune() error {
	if f.keep == 0 {
		return nil
	}
	rotated, err := f.Rotated()
	if err != nil {
		return err
	}
	for _, old := range rotated[:max(len(rotated)-f.keep, 0)] {
		if err := os.Remove(old); err != nil {
			return fmt.Errorf("prune access log: %w", err)
		}
	}
	return nil
}

// Rotated returns the rotated files of f, oldest first.
func (f *File) Rotated() ([]string, error) {
	matches, err := filepath.Glob(escapeGlob(f.path) + ".[0-9][0-9][0-9][0-9]-*")
	if err != nil {
		return nil, fmt.Errorf("list rotated access logs: %w", err)
	}
	// Names sort by time; a .N of the same second sorts after its base
	// name, numerically.
	slices.SortFunc(matches, func(a, b string) int { return compareRotated(a, b, f.path) })
	return matches, nil
}

// compareRotated orders name.STAMP, name.STAMP.1, name.STAMP.2 … name.STAMP.10.
func compareRotated(a, b, path string) int {
	sa, na := splitRotated(a, path)
	sb, nb := splitRotated(b, path)
	if c := strings.Compare(sa, sb); c != 0 {
		return c
	}
	return na - nb
}

func splitRotated(name, path string) (stamp string, n int) {
	rest := strings.TrimPrefix(name, path+".")
	stamp, suffix, ok := strings.Cut(rest, ".")
	if ok {
		fmt.Sscan(suffix, &n)
	}
	return stamp, n
}

func escapeGlob(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}
