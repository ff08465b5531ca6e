package collapse

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"sync"
	"time"
)

// A Flight is one origin fetch shared by every viewer request that missed the
// cache for the same key while it was under way (request collapsing).
//
// x/sync/singleflight returns only when the whole call is done; a flight
// instead releases its waiters the moment the origin's status and headers are
// known, then lets every one of them read the body as it arrives.
//
// A body the cache may store (no longer than the largest cacheable object)
// goes into one growing buffer: readers copy out of it, the fetcher appends
// to it at the origin's speed, and nobody sees the end of it before the
// entry is in the cache, so a request that follows a completed one is always
// a hit. Such a flight holds at most maxObjectSize bytes.
//
// A body that will not be stored (its Content-Length says it is too large,
// or it grows past the limit) is streamed: the flight holds at most
// Window bytes beyond what its slowest viewer has read (plus, for a
// body that outgrew the limit, the part read before it did, until every
// viewer has read past it), and the origin is read no faster than that
// viewer reads. A viewer that joins once the flight no longer holds the
// body's first byte, or while a slower viewer holds it back, starts a
// flight of its own. So a flight holds at most maxObjectSize + Window
// bytes of body, whatever the origin sends and however slowly its viewers
// read.
//
// Locking: key, cancel, g and stall never change; outcome and head are set
// once, by the fetcher, before ready is closed (Begin, Answer, Hand), and
// only read after it (Outcome, Head: every viewer reads them once woken,
// and a channel close orders the write before the read); the fields below
// mu are guarded by it. The bytes of body and ring are the exception: they
// are written and read outside mu, the fetcher writing only past end (or
// past len(body)) and within the room it was given, readers reading only
// bytes published under mu that the fetcher may not reuse while a reader's
// position is before them.
type Flight[H any] struct {
	key string

	// ready is closed once the outcome and head are set (Begin, Answer,
	// Hand); they never change after.
	ready   chan struct{}
	outcome Outcome
	head    H
	g       *Group[H] // nil for a detached flight

	mu sync.Mutex
	// body is the body received so far (grows; bytes once written never
	// change). Once the flight streams, it is the part read before (the
	// prefix, [0, prefix)), dropped when every viewer has read past it.
	body    []byte
	more    chan struct{} // closed and replaced on every append
	done    bool          // body complete (or failed: bodyErr)
	bodyErr error
	// refs counts the viewers of the flight: those that read it (readers)
	// and those that joined and have not begun to (who hold its first
	// byte).
	refs    int
	readers []*Reader[H]
	// spare are readers allocated in a block, for viewers that begin to
	// read: one allocation for many viewers of a miss storm.
	spare  []Reader[H]
	cancel context.CancelFunc

	// streaming is set when the body will not be stored: from then on the
	// bytes from prefix on go round ring, and end is the position after the
	// last byte received.
	streaming bool
	prefix    int
	ring      []byte // Window bytes; position p is ring[(p-prefix)%len(ring)]
	end       int
	// base is the lowest position the flight still holds: no reader is
	// before it, and the fetcher reads into the ring only up to
	// max(base, prefix)+len(ring). A viewer may join only while it is 0
	// and the fetcher is not waiting for room (space is nil).
	base int
	// space is closed, and set to nil, when the readers that were at
	// spaceAt (spaceWait of them, when the fetcher found the ring full)
	// have all moved on or left: the fetcher then looks for room again.
	space     chan struct{}
	spaceAt   int
	spaceWait int
	// stall is how long the fetcher waits for space before it cuts the
	// slowest readers short (DefaultStall; 0: for ever).
	stall time.Duration

	// leaderGone is set when the leader's viewer left before the response
	// was known (LeaderLeft), or when there is no leader (Detached): an
	// answer for the leader alone is then not taken (Hand).
	leaderGone bool

	// joined counts the viewers that joined through joinQueued. The first
	// wakeGroup of them wait on ready; later ones wait on queue[i], which
	// relay closes group after group, in arrival order, once ready is.
	joined int
	queue  []chan struct{}
}

// Window is how many bytes of a body that is not stored a flight reads
// ahead of its slowest viewer: beyond it, the origin is not read until that
// viewer has read on (or left). With the bytes held in the sockets on
// either side, it bounds the memory of a flight that streams, whatever the
// origin's size and speed and however slowly its viewers read.
const Window = 1 << 20

// DefaultStall is how long the slowest viewers of a streaming flight
// may take no bytes at all while the window is full and so the others
// wait: past it their responses are cut (their writes fail, their
// connections close) and the flight goes on at the next slowest viewer's
// pace. It is NGINX's send_timeout (60 s) applied to the one viewer that
// holds everybody back; a viewer that is merely slow keeps making progress
// and is never cut.
const DefaultStall = 60 * time.Second

// ErrNoViewers ends a streaming fetch that no viewer reads any more.
var ErrNoViewers = errors.New("no viewer reads the body any more")

// ErrStreamed is waitAll's answer for a body that is not held whole.
var ErrStreamed = errors.New("the body is streamed, not held whole")

// A Reader is one viewer's place in a flight's body.
type Reader[H any] struct {
	f *Flight[H]
	// off is the position of the first byte the viewer may still use;
	// pending is the length of the chunk it was last given, which it uses
	// until its next call to next (f.mu).
	off, pending int
	i            int  // index in f.readers (f.mu)
	left         bool // (f.mu)
	// abort cuts the viewer's response short (nil: it cannot be): it
	// unblocks a write to a viewer that stopped reading (see flightStall).
	abort func()
}

// wakeGroup is how many viewers of a flight are woken at once: one channel
// close each. Closing one channel that thousands wait on readies them in
// an order the scheduler makes close to last-come-first-served, so the
// first viewers of a miss storm were answered last; groups woken in
// arrival order answer them first, and a late viewer, whose own wait is
// shorter, later.
const wakeGroup = 64

func newFlight[H any](g *Group[H], key string, cancel context.CancelFunc) *Flight[H] {
	return &Flight[H]{key: key, ready: make(chan struct{}), more: make(chan struct{}), refs: 1, cancel: cancel, stall: g.stall, g: g}
}

// Fill reads the origin body into the flight, waking readers after every
// read. Only the fetching goroutine changes f.body; it reads straight into
// the slice's spare capacity, which no reader looks at (readers only see
// body[:len] as published under the lock), so each byte is copied once from
// the socket and never again. length is the body's length (-1: unknown).
// tooLarge reports that the body is longer than limit: it is then streamed
// (see stream) from the start when length says so, else from the moment
// it outgrows limit, and is not stored. ctx is the fetch's.
func (f *Flight[H]) Fill(ctx context.Context, r io.Reader, limit, length int64) (tooLarge bool, err error) {
	if length > limit {
		_, err := f.stream(ctx, r)
		return true, err
	}
	b := f.body // only this goroutine writes f.body
	for {
		if len(b) == cap(b) {
			if int64(cap(b)) >= limit {
				// As much as may be stored, and there may be more: stream
				// from here on. A body of exactly limit bytes is stored.
				n, err := f.stream(ctx, r)
				return n > 0, err
			}
			n := min(max(2*cap(b), 32<<10), int(limit))
			nb := make([]byte, len(b), n)
			copy(nb, b)
			b = nb
		}
		n, rerr := r.Read(b[len(b):cap(b)])
		if n > 0 {
			b = b[:len(b)+n]
			if rerr == nil {
				f.publish(b, false, nil)
			} else {
				// The body's last bytes (a body with a length ends with
				// them): finish publishes them with the end, so readers
				// are woken once and write the body in one piece, rather
				// than writing and flushing it and waiting for its end.
				f.SetBody(b)
			}
		}
		if int64(len(b)) > limit {
			tooLarge = true
		}
		if rerr == io.EOF {
			return tooLarge, nil
		}
		if rerr != nil {
			return tooLarge, rerr
		}
	}
}

// stream reads the rest of the origin body through the ring, never more
// than Window bytes ahead of the slowest reader: when the ring is
// full it waits for that reader. It ends with ErrNoViewers when nobody
// reads any more, or with ctx's error; n is how many bytes it read.
func (f *Flight[H]) stream(ctx context.Context, r io.Reader) (n int64, err error) {
	ring := make([]byte, Window)
	f.mu.Lock()
	f.streaming, f.ring, f.prefix, f.end = true, ring, len(f.body), len(f.body)
	f.wakeLocked() // waitAll gives up on the body
	f.mu.Unlock()
	for {
		buf, err := f.room(ctx)
		if err != nil {
			return n, err
		}
		m, rerr := r.Read(buf)
		if m > 0 {
			n += int64(m)
			f.mu.Lock()
			f.end += m
			f.wakeLocked()
			f.mu.Unlock()
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// room returns the part of the ring the fetcher may read into next, waiting
// while it is full (until the slowest reader moves on or leaves).
func (f *Flight[H]) room(ctx context.Context) ([]byte, error) {
	f.mu.Lock()
	for {
		if f.refs == 0 {
			f.mu.Unlock()
			return nil, ErrNoViewers
		}
		start := max(f.base, f.prefix)
		if free := start + len(f.ring) - f.end; free > 0 {
			i := (f.end - f.prefix) % len(f.ring)
			n := min(free, len(f.ring)-i)
			f.mu.Unlock()
			return f.ring[i : i+n : i+n], nil
		}
		low, at := f.lowLocked()
		if low > f.base {
			f.base = low
			if low >= f.prefix {
				f.body = nil // everyone has read the prefix
			}
			continue
		}
		f.space, f.spaceAt, f.spaceWait = make(chan struct{}), low, at
		space := f.space
		f.mu.Unlock()
		if err := f.waitSpace(ctx, space, low); err != nil {
			return nil, err
		}
		f.mu.Lock()
	}
}

// waitSpace waits for space to close (the viewers at low moved on or
// left). When they take nothing for f.stall, their responses are cut, so
// they leave; the wait goes on for that.
func (f *Flight[H]) waitSpace(ctx context.Context, space <-chan struct{}, low int) error {
	var stalled <-chan time.Time
	if f.stall > 0 {
		t := time.NewTimer(f.stall)
		defer t.Stop()
		stalled = t.C
	}
	for {
		select {
		case <-space:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-stalled:
			stalled = nil
			f.mu.Lock()
			var aborts []func()
			for _, r := range f.readers {
				if r.off == low && r.abort != nil {
					aborts = append(aborts, r.abort)
				}
			}
			f.mu.Unlock()
			for _, abort := range aborts {
				abort()
			}
		}
	}
}

// lowLocked returns the position of the slowest viewer and how many are
// there; viewers that have not begun to read are at 0 (f.mu held).
func (f *Flight[H]) lowLocked() (low, at int) {
	low = f.end
	if n := f.refs - len(f.readers); n > 0 {
		low, at = 0, n
	}
	for _, r := range f.readers {
		switch {
		case r.off < low:
			low, at = r.off, 1
		case r.off == low:
			at++
		}
	}
	return low, at
}

// movedLocked notes that a viewer at position off moved on or left, waking
// the fetcher when it waited for the last of those at off (f.mu held).
func (f *Flight[H]) movedLocked(off int) {
	if f.space != nil && off == f.spaceAt {
		f.spaceWait--
		if f.spaceWait <= 0 {
			close(f.space)
			f.space = nil
		}
	}
}

// wakeLocked wakes the readers waiting for more (f.mu held).
func (f *Flight[H]) wakeLocked() {
	close(f.more)
	f.more = make(chan struct{})
}

// publish makes b the body readers see and wakes them.
func (f *Flight[H]) publish(b []byte, done bool, err error) {
	f.mu.Lock()
	f.body = b
	if done {
		f.done, f.bodyErr = true, err
	}
	f.wakeLocked()
	f.mu.Unlock()
}

// SetBody makes b the body readers see without waking them.
func (f *Flight[H]) SetBody(b []byte) {
	f.mu.Lock()
	f.body = b
	f.mu.Unlock()
}

// finish marks the body complete (err nil) or failed.
func (f *Flight[H]) finish(err error) {
	f.mu.Lock()
	b := f.body
	f.mu.Unlock()
	f.publish(b, true, err)
}

// Snapshot returns the body received so far and whether it is complete
// (err is the body's failure, if any). A streamed body is never complete:
// it is read with next.
func (f *Flight[H]) Snapshot() (body []byte, done bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.streaming {
		return nil, false, nil
	}
	return f.body, f.done, f.bodyErr
}

// NewReader makes the calling viewer, which joined f, one that reads it: its
// position holds the flight's window from now on, until it leaves
// (Group.LeaveReader).
func (f *Flight[H]) NewReader(abort func()) *Reader[H] {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.spare) == 0 {
		// The viewers still to begin are most likely the next readers.
		n := min(max(f.refs-len(f.readers), 1), 64)
		f.spare = make([]Reader[H], n)
		if f.readers == nil {
			f.readers = make([]*Reader[H], 0, n)
		}
	}
	r := &f.spare[0]
	f.spare = f.spare[1:]
	r.f, r.i, r.abort = f, len(f.readers), abort
	f.readers = append(f.readers, r)
	return r
}

// Next returns the body bytes after those it returned last time, which the
// viewer is done with. When there are none yet it flushes what the viewer
// has been written (so a slow origin's bytes are not held back) and waits.
// It returns done=true at the end of the body (err is the body's failure,
// if any), or ctx's error when the viewer went away.
func (r *Reader[H]) Next(ctx context.Context, flusher http.Flusher) (chunk []byte, done bool, err error) {
	f := r.f
	flushed := false
	f.mu.Lock()
	if r.pending > 0 {
		was := r.off
		r.off += r.pending
		r.pending = 0
		f.movedLocked(was)
	}
	for {
		if chunk = f.chunkLocked(r.off); len(chunk) > 0 {
			r.pending = len(chunk)
			f.mu.Unlock()
			return chunk, false, nil
		}
		if f.done {
			err = f.bodyErr
			f.mu.Unlock()
			return nil, true, err
		}
		more := f.more
		f.mu.Unlock()
		// About to wait: what was written (at first, the headers) goes out,
		// so a viewer's first byte never waits for the origin's next one.
		if !flushed && flusher != nil {
			flusher.Flush()
			flushed = true
		}
		select {
		case <-more:
		case <-ctx.Done():
			return nil, true, ctx.Err()
		}
		f.mu.Lock()
	}
}

// chunkLocked returns the bytes from off on that are in one piece of
// memory (f.mu held).
func (f *Flight[H]) chunkLocked(off int) []byte {
	if !f.streaming || off < f.prefix {
		if off < len(f.body) {
			return f.body[off:len(f.body):len(f.body)]
		}
		return nil
	}
	if off >= f.end {
		return nil
	}
	i := (off - f.prefix) % len(f.ring)
	n := min(f.end-off, len(f.ring)-i)
	return f.ring[i : i+n : i+n]
}

// WaitAll waits for the whole body. It gives up with ErrStreamed when the
// body is not held whole (see stream).
func (f *Flight[H]) WaitAll(ctx context.Context) (body []byte, done bool, err error) {
	for {
		f.mu.Lock()
		if f.streaming {
			f.mu.Unlock()
			return nil, false, ErrStreamed
		}
		if f.done {
			body, err = f.body, f.bodyErr
			f.mu.Unlock()
			return body, true, err
		}
		more := f.more
		f.mu.Unlock()
		select {
		case <-more:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// wakeupLocked counts a viewer joining f and returns the channel it waits
// on for the response (f.mu held).
func (f *Flight[H]) wakeupLocked() <-chan struct{} {
	n := f.joined
	f.joined++
	if n < wakeGroup {
		return f.ready
	}
	select {
	case <-f.ready:
		// The response is known (relay may be done): no queue.
		return f.ready
	default:
	}
	i := n/wakeGroup - 1
	if i == len(f.queue) {
		f.queue = append(f.queue, make(chan struct{}))
		if i == 0 {
			go f.relay()
		}
	}
	return f.queue[i]
}

// relay wakes the queued groups of viewers, in arrival order, once the
// response is known (Begin, Answer and Hand close ready). It lets each
// group just woken run before it wakes the next, so the run queues hold the
// viewers in the order they came. One goroutine per flight with more than
// wakeGroup viewers; none for smaller ones.
func (f *Flight[H]) relay() {
	<-f.ready
	for i := 0; ; i++ {
		f.mu.Lock()
		if i == len(f.queue) {
			// Viewers that join from now on find ready closed.
			f.queue = nil
			f.mu.Unlock()
			return
		}
		ch := f.queue[i]
		f.mu.Unlock()
		close(ch)
		runtime.Gosched()
	}
}

// A Group holds the flights under way, by cache key.
type Group[H any] struct {
	mu      sync.Mutex
	flights map[string]*Flight[H]
	stall   time.Duration // each flight's stall (DefaultStall); 0: none
}

// NewGroup returns a group whose flights cut a viewer that takes no bytes
// for stall while it holds the others back (0: never; see DefaultStall).
func NewGroup[H any](stall time.Duration) *Group[H] {
	return &Group[H]{flights: make(map[string]*Flight[H]), stall: stall}
}

// Join returns the flight for key, creating it (with a fetch context from
// newCtx) when there is none, or when the one under way streams a body it
// no longer holds from its first byte (a viewer that joined it could not be
// served all of it) or is held back by a viewer that does not read (one
// that joined it would wait for that viewer, perhaps for ever); leader
// reports whether the caller created it and so must start the fetch. wake
// is the channel the caller waits on for the response: viewers are woken in
// the order they joined, wakeGroup at a time (see relay). The caller counts
// as a viewer of the flight until it leaves (leave, or leaveReader once it
// reads).
func (g *Group[H]) Join(key string, newCtx func() (context.Context, context.CancelFunc)) (f *Flight[H], ctx context.Context, leader bool, wake <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.flights[key]; ok {
		f.mu.Lock()
		if f.base == 0 && f.space == nil {
			f.refs++
			wake = f.wakeupLocked()
			f.mu.Unlock()
			return f, nil, false, wake
		}
		// f goes on for its own viewers; its fetcher's forget is then a
		// no-op.
		f.mu.Unlock()
	}
	ctx, cancel := newCtx()
	f = newFlight(g, key, cancel)
	f.joined = 1
	g.flights[key] = f
	return f, ctx, true, f.ready
}

// forget removes f from the group, so that later requests start their own
// fetch (or find the entry in the cache).
func (g *Group[H]) forget(f *Flight[H]) {
	if g == nil {
		return // a detached flight
	}
	g.mu.Lock()
	if g.flights[f.key] == f {
		delete(g.flights, f.key)
	}
	g.mu.Unlock()
}

// Leave is called by each viewer that stops waiting for a flight before it
// reads it (see LeaveReader). When the last viewer leaves before the body is
// complete, the origin fetch is cancelled: nobody is waiting for it any
// more. The group lock makes this atomic with join, so nobody joins a
// flight that is being abandoned.
func (g *Group[H]) Leave(f *Flight[H]) {
	g.leaveAt(f, nil)
}

// LeaveReader is Leave for a viewer that reads f through r; a second call
// for the same r does nothing.
func (g *Group[H]) LeaveReader(r *Reader[H]) {
	g.leaveAt(r.f, r)
}

// leaveAt is Leave for the viewer reading through r (nil: one that has not
// begun to read, at position 0).
func (g *Group[H]) leaveAt(f *Flight[H], r *Reader[H]) {
	// Most viewers leave a flight that others still read or that is done:
	// neither can be abandoned, and the group lock (which every viewer of
	// a storm would queue for) is not needed. refs only grows under it.
	f.mu.Lock()
	if r != nil && r.left {
		f.mu.Unlock()
		return
	}
	if f.done || f.refs > 1 {
		f.dropLocked(r)
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	g.mu.Lock()
	f.mu.Lock()
	f.dropLocked(r)
	abandon := f.refs == 0 && !f.done
	f.mu.Unlock()
	if abandon && g.flights[f.key] == f {
		delete(g.flights, f.key)
	}
	g.mu.Unlock()
	if abandon {
		f.cancel()
	}
}

// dropLocked counts a viewer out of f: r, or one that had not begun to
// read when r is nil (f.mu held).
func (f *Flight[H]) dropLocked(r *Reader[H]) {
	f.refs--
	off := 0
	if r != nil {
		r.left = true
		off = r.off
		last := f.readers[len(f.readers)-1]
		f.readers[r.i], last.i = last, r.i
		f.readers[len(f.readers)-1] = nil
		f.readers = f.readers[:len(f.readers)-1]
	}
	f.movedLocked(off)
}

// Len reports the number of flights under way.
func (g *Group[H]) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.flights)
}
