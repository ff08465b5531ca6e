package cache

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"
)

// checkArena walks every block of a and fails t unless the allocator's
// invariants hold: blocks tile the arena, no two free blocks touch, each
// block's prevFree bit and each free block's tag agree with its
// neighbours, the free lists hold exactly the free blocks, and used is the
// sum of the blocks in use.
func checkArena(t testing.TB, a *arena) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	end := a.capacity() - headerSize
	free := map[int64]int64{}
	var used int64
	prevWasFree := false
	off := int64(0)
	for off < end {
		w := a.getWord(off)
		size := int64(w &^ flagMask)
		if size < minBlock || size%blockAlign != 0 || off+size > end {
			t.Fatalf("block at %d: size %d", off, size)
		}
		if (w&prevFree != 0) != prevWasFree {
			t.Fatalf("block at %d: prevFree %v, previous block free %v", off, w&prevFree != 0, prevWasFree)
		}
		isFree := w&blockFree != 0
		if isFree {
			if prevWasFree {
				t.Fatalf("free blocks touch at %d", off)
			}
			if tag := int64(a.getWord(off + size - 8)); tag != size {
				t.Fatalf("free block at %d: tag %d, size %d", off, tag, size)
			}
			free[off] = size
		} else {
			used += size
		}
		prevWasFree = isFree
		off += size
	}
	if off != end {
		t.Fatalf("blocks end at %d, arena at %d", off, end)
	}
	if w := a.getWord(end); w&^flagMask != 0 || (w&prevFree != 0) != prevWasFree {
		t.Fatalf("end marker %#x, last block free %v", w, prevWasFree)
	}
	if used != a.used {
		t.Fatalf("used %d, blocks in use %d", a.used, used)
	}
	listed := 0
	for fl := range flCount {
		for sl := range slCount {
			has := a.heads[fl][sl] != 0
			if has != (a.slBitmap[fl]&(1<<sl) != 0) {
				t.Fatalf("list %d/%d: head %d, bitmap %v", fl, sl, a.heads[fl][sl], !has)
			}
			prev := int64(0)
			for p := a.heads[fl][sl]; p != 0; p = int64(a.getWord(p - 1 + 8)) {
				b := p - 1
				size, ok := free[b]
				if !ok {
					t.Fatalf("list %d/%d holds %d, not a free block", fl, sl, b)
				}
				if f, s := mapping(size); f != fl || s != sl {
					t.Fatalf("block of %d on list %d/%d, belongs on %d/%d", size, fl, sl, f, s)
				}
				if got := int64(a.getWord(b + 16)); got != prev {
					t.Fatalf("block %d: prev link %d, want %d", b, got, prev)
				}
				prev = p
				listed++
			}
		}
		if (a.flBitmap&(1<<fl) != 0) != (a.slBitmap[fl] != 0) {
			t.Fatalf("first-level bitmap at %d disagrees", fl)
		}
	}
	if listed != len(free) {
		t.Fatalf("%d blocks listed, %d free", listed, len(free))
	}
}

// TestArenaAllocFree allocates and frees random sizes, checking after
// every step that the allocator is consistent and that every live block
// still holds what was written to it; once everything is freed the arena
// is one free block again.
func TestArenaAllocFree(t *testing.T) {
	a, err := newArena(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	checkArena(t, a)
	rng := rand.New(rand.NewPCG(1, 2))
	type live struct {
		m    *memBlock
		fill byte
	}
	var blocks []live
	failed := 0
	for i := range 4000 {
		if len(blocks) > 0 && rng.IntN(3) == 0 {
			j := rng.IntN(len(blocks))
			b := blocks[j]
			if !bytes.Equal(b.m.bytes(), bytes.Repeat([]byte{b.fill}, int(b.m.len()))) {
				t.Fatalf("step %d: block at %d was overwritten", i, b.m.off)
			}
			b.m.release()
			blocks = append(blocks[:j], blocks[j+1:]...)
		} else {
			n := rng.IntN(1 << (4 + rng.IntN(13))) // 0 .. 64 KiB, most small
			fill := byte(i)
			m := a.newMemBlock(bytes.Repeat([]byte{fill}, n))
			if m == nil {
				failed++
			} else {
				blocks = append(blocks, live{m, fill})
			}
		}
		if i%50 == 0 {
			checkArena(t, a)
		}
	}
	if failed == 0 {
		t.Error("the arena never filled up: the test does not reach the full case")
	}
	for _, b := range blocks {
		b.m.release()
	}
	checkArena(t, a)
	if a.inUse() != 0 {
		t.Fatalf("in use after freeing everything: %d", a.inUse())
	}
	if w := a.getWord(0); w&blockFree == 0 || int64(w&^flagMask) != a.capacity()-headerSize {
		t.Fatalf("the whole arena, freed, is not one free block again: first block %#x", w)
	}
}

// TestArenaFull: an allocation larger than what is free fails, and counts.
func TestArenaFull(t *testing.T) {
	a, err := newArena(64 << 10)
	if err != nil {
		t.Fatal(err)
	}
	m := a.newMemBlock(make([]byte, 40<<10))
	if m == nil {
		t.Fatal("40 KiB in a 64 KiB arena")
	}
	if a.newMemBlock(make([]byte, 30<<10)) != nil {
		t.Fatal("30 KiB more in a 64 KiB arena")
	}
	if a.failures.Load() != 1 {
		t.Fatalf("failures %d, want 1", a.failures.Load())
	}
	m.release()
	if a.newMemBlock(make([]byte, 30<<10)) == nil {
		t.Fatal("30 KiB after freeing 40")
	}
}

// TestMemBlockRefs: a block opened by a reader outlives the store's
// reference, is not handed to another body meanwhile, and cannot be
// acquired again once its last reference went.
func TestMemBlockRefs(t *testing.T) {
	a, err := newArena(64 << 10)
	if err != nil {
		t.Fatal(err)
	}
	m := a.newMemBlock(bytes.Repeat([]byte{'x'}, 40<<10))
	if !m.acquire() { // a viewer's Body
		t.Fatal("acquire of a live block")
	}
	m.release() // the store lets go
	if other := a.newMemBlock(make([]byte, 30<<10)); other != nil {
		t.Fatal("the block still being read was given to another body")
	}
	if m.bytes()[0] != 'x' {
		t.Fatal("the body being read changed")
	}
	m.release() // the viewer is done
	if m.acquire() {
		t.Fatal("acquire of a freed block")
	}
	if a.newMemBlock(make([]byte, 30<<10)) == nil {
		t.Fatal("the freed block was not returned")
	}
}

// TestMemBlockCountSaturates: the reference count, which shares a word
// with the body's length, refuses a reference before it would overflow
// into the length, and the length survives every reference taken and let
// go.
func TestMemBlockCountSaturates(t *testing.T) {
	a, err := newArena(64 << 10)
	if err != nil {
		t.Fatal(err)
	}
	m := a.newMemBlock(bytes.Repeat([]byte{'x'}, 5000))
	m.refs.Add(refMask - 3) // as if refMask-3 more viewers held it
	if !m.acquire() {
		t.Fatal("acquire below the largest count failed")
	}
	if m.acquire() {
		t.Fatal("acquire at the largest count succeeded")
	}
	if m.len() != 5000 {
		t.Fatalf("length %d after %d references, want 5000", m.len(), refMask-1)
	}
	m.refs.Add(^uint64(refMask - 5)) // all but three of them let go (-(refMask-4))
	m.release()
	m.release()
	if got := m.refs.Load(); got != 5000<<refBits|1 {
		t.Fatalf("word %#x once the references went, want the length and one reference", got)
	}
	m.release()
	if m.acquire() {
		t.Fatal("acquire of a freed block")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("a release more than acquired did not panic")
			}
		}()
		m.release()
	}()
}

// FuzzArena runs allocation and free sequences decoded from the input and
// checks the allocator after each.
func FuzzArena(f *testing.F) {
	f.Add([]byte{0, 10, 0, 200, 1, 0, 0, 7, 1, 1})
	f.Add(bytes.Repeat([]byte{0, 255, 255}, 30))
	f.Fuzz(func(t *testing.T, ops []byte) {
		a, err := newArena(256 << 10)
		if err != nil {
			t.Fatal(err)
		}
		var blocks []*memBlock
		for len(ops) >= 3 {
			op, arg := ops[0], binary.LittleEndian.Uint16(ops[1:3])
			ops = ops[3:]
			if op%2 == 1 && len(blocks) > 0 {
				j := int(arg) % len(blocks)
				blocks[j].release()
				blocks = append(blocks[:j], blocks[j+1:]...)
			} else if m := a.newMemBlock(make([]byte, int(arg)<<(op%4))); m != nil {
				blocks = append(blocks, m)
			}
			checkArena(t, a)
		}
	})
}

// senderProbe is a writer that records whether a body reached it through
// SendFile or Write; sends says what its SendsFiles answers.
type senderProbe struct {
	sends         bool
	sent, written int64
	bytes.Buffer
}

func (p *senderProbe) SendFile(f *os.File, off, n int64) (int64, error) {
	p.sent += n
	return io.Copy(&p.Buffer, io.NewSectionReader(f, off, n))
}

func (p *senderProbe) Write(b []byte) (int, error) {
	p.written += int64(len(b))
	return p.Buffer.Write(b)
}

func (p *senderProbe) SendsFiles() bool { return p.sends }

// TestArenaBodyWriteRange: a body from the arena goes to a writer that can
// sendfile(2) it (a large body, the writer saying it would) through
// SendFile, from the memory file; anything else is written from the
// mapping — a small body, or a writer that would only read the file back
// (TLS, HTTP/2) — and the bytes are the body's either way.
func TestArenaBodyWriteRange(t *testing.T) {
	s := newStore(t, 1<<20, nil)
	for _, tc := range []struct {
		name     string
		size     int
		sends    bool
		sendfile bool
	}{
		{"large, writer sends files", 100 << 10, true, true},
		{"large, writer would copy", 100 << 10, false, false},
		{"small, writer sends files", 1 << 10, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := entry("/"+tc.name, tc.size, time.Now(), time.Hour)
			if !s.Set(tc.name, e) {
				t.Fatal("Set refused")
			}
			got, _ := s.Get(tc.name)
			body, err := got.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer body.Close()
			p := &senderProbe{sends: tc.sends}
			if err := body.WriteRange(p, 10, int64(tc.size-20)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p.Bytes(), e.Body()[10:tc.size-10]) {
				t.Fatal("wrong bytes")
			}
			if (p.sent > 0) != tc.sendfile || p.sent+p.written != int64(tc.size-20) {
				t.Errorf("sent %d, written %d; want sendfile %v", p.sent, p.written, tc.sendfile)
			}
		})
	}
}

// fileBytes is the memory the arena's file holds (its allocated blocks).
func fileBytes(t *testing.T, a *arena) int64 {
	t.Helper()
	st, err := a.file.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Blocks * 512
}

// TestArenaReleasesFreedPages: the memory the arena holds follows the
// bytes in use — pages wholly inside free space go back to the kernel as
// blocks are freed — rather than staying at the most it ever held.
func TestArenaReleasesFreedPages(t *testing.T) {
	a, err := newArena(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if a.file == nil {
		t.Skip("no memory file on this system: the arena is plain heap memory")
	}
	var blocks []*memBlock
	for i := range 4000 {
		if m := a.newMemBlock(bytes.Repeat([]byte{byte(i)}, 3000)); m != nil {
			blocks = append(blocks, m)
		}
	}
	full := fileBytes(t, a)
	if full < 11<<20 {
		t.Fatalf("12 MB of bodies written, the file holds %d B", full)
	}
	for i := 0; i < len(blocks); i += 2 {
		blocks[i].release()
	}
	half := fileBytes(t, a)
	for i := 1; i < len(blocks); i += 2 {
		b := blocks[i]
		if b.bytes()[0] != byte(i) || b.bytes()[2999] != byte(i) {
			t.Fatalf("block %d changed when its neighbours were freed", i)
		}
		b.release()
	}
	checkArena(t, a)
	empty := fileBytes(t, a)
	t.Logf("file: %d B in use, %d B with every other block freed, %d B with none", full, half, empty)
	if half > full || empty > 64<<10 {
		t.Errorf("file holds %d B with every other 3,000-byte block freed (%d B full), %d B with all freed: want the freed pages back",
			half, full, empty)
	}
}

// TestArenaFillFails: a block whose filling fails (a disk body that does
// not match its checksum, read for promotion) goes back to the arena.
func TestArenaFillFails(t *testing.T) {
	a, err := newArena(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int64{100, 40 << 10} {
		if m := a.newMemBlockFrom(n, func([]byte) error { return errRecord }); m != nil {
			t.Fatalf("%d bytes: a block whose fill failed was kept", n)
		}
		if a.inUse() != 0 {
			t.Fatalf("%d bytes: %d B in use after a failed fill", n, a.inUse())
		}
		checkArena(t, a)
	}
}
