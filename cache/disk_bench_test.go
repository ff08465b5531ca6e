package cache

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The layout measurements behind disk.go's choice (files as the index,
// scanned at start, against an append-only index log beside the files):
//
//	go test -run XXX -bench 'Disk' -benchtime 10000x ./cache/
//
// BenchmarkDiskWrite is one object written (temporary file, rename, index
// update); BenchmarkDiskIndexLogAppend what an index log adds to it (one
// appended record, with and without fsync); BenchmarkDiskScan a start's
// scan of 10,000 objects; BenchmarkDiskGet a disk hit's lookup and open.

func BenchmarkDiskWrite(b *testing.B) {
	for _, size := range []int{1 << 10, 100 << 10} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			clk := newClock()
			s := diskStore(b, b.TempDir(), 1<<20, 1<<40, clk)
			e := NewEntry(Entry{Status: 200, Header: NewHeader(hdr("Content-Type", "text/plain", "Etag", `"abc"`)),
				Distribution: "E1", Path: "/x", StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, make([]byte, size), Extra{})
			b.ResetTimer()
			for i := range b.N {
				if err := s.disk.writeRecord("key/"+strconv.Itoa(i), e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDiskIndexLogAppend(b *testing.B) {
	for _, sync := range []bool{false, true} {
		b.Run("fsync="+strconv.FormatBool(sync), func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "index.log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			rec := make([]byte, 64)
			b.ResetTimer()
			for i := range b.N {
				binary.LittleEndian.PutUint64(rec, uint64(i))
				if _, err := f.Write(rec); err != nil {
					b.Fatal(err)
				}
				if sync {
					if err := f.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func BenchmarkDiskScan(b *testing.B) {
	dir, clk := b.TempDir(), newClock()
	s := diskStore(b, dir, 1<<20, 1<<40, clk)
	const n = 10_000
	for i := range n {
		e := NewEntry(Entry{Status: 200, Header: NewHeader(hdr("Content-Type", "text/plain")),
			Distribution: "E1", Path: "/x", StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, make([]byte, 1024), Extra{})
		if err := s.disk.writeRecord("key/"+strconv.Itoa(i), e); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	b.ResetTimer()
	for range b.N {
		s2, err := New(Options{MaxBytes: 1 << 20, Now: clk.Now, Disk: &DiskOptions{Path: dir, MaxBytes: 1 << 40}})
		if err != nil {
			b.Fatal(err)
		}
		s2.WaitDiskScan()
		if st := s2.DiskStats(); st.Items != n {
			b.Fatalf("%d items indexed, want %d", st.Items, n)
		}
		s2.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/n, "µs/object")
}

// diskHitStore is a store whose 1,000 objects (1 KiB) are on disk only,
// and their keys.
func diskHitStore(b *testing.B) (*Store, []string) {
	dir, clk := b.TempDir(), newClock()
	s, err := New(Options{MaxBytes: 1 << 20, MaxObjectSize: 1, Now: clk.Now, Disk: &DiskOptions{Path: dir, MaxBytes: 1 << 40}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "key/" + strconv.Itoa(i)
		s.Set(keys[i], NewEntry(Entry{Status: 200, Distribution: "E1", Path: "/x", StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, make([]byte, 1024), Extra{}))
	}
	s.WaitDisk()
	return s, keys
}

// diskHit looks key up and opens and closes its body, as a disk hit does.
func diskHit(b *testing.B, s *Store, key string) {
	e, ok := s.Get(key)
	if !ok {
		b.Fatal("miss")
	}
	body, err := e.Open()
	if err != nil {
		b.Fatal(err)
	}
	body.Close()
}

func BenchmarkDiskGet(b *testing.B) {
	s, keys := diskHitStore(b)
	b.ResetTimer()
	for i := range b.N {
		diskHit(b, s, keys[i%len(keys)])
	}
}

// BenchmarkDiskGetParallel is BenchmarkDiskGet from every P at once: disk
// hits in the open-file cache contending for the tier.
func BenchmarkDiskGetParallel(b *testing.B) {
	s, keys := diskHitStore(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			diskHit(b, s, keys[i%len(keys)])
		}
	})
}
