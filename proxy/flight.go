package proxy

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"sync"

	"github.com/edgefront/edgefront/origin"
)

// A flight is one origin fetch shared by every viewer request that missed the
// cache for the same key while it was under way (request collapsing).
//
// x/sync/singleflight returns only when the whole call is done; a flight
// instead releases its waiters the moment the origin's status and headers are
// known, then lets every one of them read the body as it arrives. The body
// goes into one growing buffer: readers copy out of it, the fetcher appends
// to it, and nobody sees the end of it before the entry is in the cache, so a
// request that follows a completed one is always a hit.
type flight struct {
	key string

	// ready is closed once status/header (or err) are set.
	ready  chan struct{}
	status int
	header http.Header
	err    error
	// shared is false when the response may not be shared between viewers
	// (not cacheable): each waiter then fetches on its own.
	shared bool
	result string // X-Cache result for the viewers of this flight
	// vary holds the Vary name/value pairs of a shared response: a waiter
	// whose request differs is not served it.
	vary []string

	mu      sync.Mutex
	body    []byte        // grows; bytes once written never change
	more    chan struct{} // closed and replaced on every append
	done    bool          // body complete (or failed: bodyErr)
	bodyErr error
	refs    int // viewers still reading
	cancel  context.CancelFunc

	// direct is the origin response handed to the leader alone when the
	// response is not shared: it streams straight through, unbuffered.
	direct *origin.Response
	// leaderGone is set when the leader's viewer left before the response
	// was known; a direct response is then closed by the fetcher.
	leaderGone bool

	// joined counts the viewers that joined through joinQueued. The first
	// wakeGroup of them wait on ready; later ones wait on queue[i], which
	// relay closes group after group, in arrival order, once ready is.
	joined int
	queue  []chan struct{}
}

// wakeGroup is how many viewers of a flight are woken at once: one channel
// close each. Closing one channel that thousands wait on readies them in
// an order the scheduler makes close to last-come-first-served, so the
// first viewers of a miss storm were answered last; groups woken in
// arrival order answer them first, and a late viewer, whose own wait is
// shorter, later.
const wakeGroup = 64

func newFlight(key string, cancel context.CancelFunc) *flight {
	return &flight{key: key, ready: make(chan struct{}), more: make(chan struct{}), refs: 1, cancel: cancel}
}

// fill reads the origin body into the flight, waking readers after every
// read. Only the fetching goroutine changes f.body; it reads straight into
// the slice's spare capacity, which no reader looks at (readers only see
// body[:len] as published under the lock), so each byte is copied once from
// the socket and never again. tooLarge reports that the body outgrew limit:
// viewers still get all of it, but it is not stored.
func (f *flight) fill(r io.Reader, limit int64) (tooLarge bool, err error) {
	b := f.body // only this goroutine writes f.body
	for {
		if len(b) == cap(b) {
			n := max(2*cap(b), 32<<10)
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
				f.setBody(b)
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

// publish makes b the body readers see and wakes them.
func (f *flight) publish(b []byte, done bool, err error) {
	f.mu.Lock()
	f.body = b
	if done {
		f.done, f.bodyErr = true, err
	}
	close(f.more)
	f.more = make(chan struct{})
	f.mu.Unlock()
}

// setBody makes b the body readers see without waking them.
func (f *flight) setBody(b []byte) {
	f.mu.Lock()
	f.body = b
	f.mu.Unlock()
}

// finish marks the body complete (err nil) or failed.
func (f *flight) finish(err error) {
	f.mu.Lock()
	b := f.body
	f.mu.Unlock()
	f.publish(b, true, err)
}

// snapshot returns the body received so far and whether it is complete
// (err is the body's failure, if any).
func (f *flight) snapshot() (body []byte, done bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.body, f.done, f.bodyErr
}

// next returns body bytes from off on. When there are none yet it flushes
// what the viewer has been written (so a slow origin's bytes are not held
// back) and waits. It returns done=true at the end of the body (err is the
// body's failure, if any), or ctx's error when the viewer went away.
func (f *flight) next(ctx context.Context, off int, flusher http.Flusher) (chunk []byte, done bool, err error) {
	flushed := false
	for {
		f.mu.Lock()
		if off < len(f.body) {
			chunk = f.body[off:len(f.body):len(f.body)]
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
	}
}

// waitAll waits for the whole body.
func (f *flight) waitAll(ctx context.Context) (body []byte, done bool, err error) {
	for {
		f.mu.Lock()
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
func (f *flight) wakeupLocked() <-chan struct{} {
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
// response is known (runFlight closes ready on every path). It lets each
// group just woken run before it wakes the next, so the run queues hold the
// viewers in the order they came. One goroutine per flight with more than
// wakeGroup viewers; none for smaller ones.
func (f *flight) relay() {
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

// group holds the flights under way, by cache key.
type group struct {
	mu      sync.Mutex
	flights map[string]*flight
}

func newGroup() *group { return &group{flights: make(map[string]*flight)} }

// join returns the flight for key, creating it (with a fetch context from
// newCtx) when there is none; leader reports whether the caller created it
// and so must start the fetch. wake is the channel the caller waits on for
// the response: viewers are woken in the order they joined, wakeGroup at a
// time (see relay).
func (g *group) join(key string, newCtx func() (context.Context, context.CancelFunc)) (f *flight, ctx context.Context, leader bool, wake <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.flights[key]; ok {
		f.mu.Lock()
		f.refs++
		wake = f.wakeupLocked()
		f.mu.Unlock()
		return f, nil, false, wake
	}
	ctx, cancel := newCtx()
	f = newFlight(key, cancel)
	f.joined = 1
	g.flights[key] = f
	return f, ctx, true, f.ready
}

// forget removes f from the group, so that later requests start their own
// fetch (or find the entry in the cache).
func (g *group) forget(f *flight) {
	g.mu.Lock()
	if g.flights[f.key] == f {
		delete(g.flights, f.key)
	}
	g.mu.Unlock()
}

// leave is called by each viewer when it stops reading. When the last viewer
// leaves before the body is complete, the origin fetch is cancelled: nobody
// is waiting for it any more. The group lock makes this atomic with join, so
// nobody joins a flight that is being abandoned.
func (g *group) leave(f *flight) {
	// Most viewers leave a flight that others still read or that is done:
	// neither can be abandoned, and the group lock (which every viewer of
	// a storm would queue for) is not needed. refs only grows under it.
	f.mu.Lock()
	if f.done || f.refs > 1 {
		f.refs--
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	g.mu.Lock()
	f.mu.Lock()
	f.refs--
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

// len reports the number of flights under way.
func (g *group) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.flights)
}
