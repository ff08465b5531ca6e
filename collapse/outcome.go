// Package collapse is request collapsing: the viewers that miss the cache
// for one key while its origin fetch is under way share that fetch (a
// Flight), instead of each asking the origin.
//
// Unlike x/sync/singleflight, which returns when the whole call is done, a
// flight wakes its viewers the moment the answer's head is known and lets
// each read the body as it arrives, with memory bounded whatever the
// origin sends and however slowly the viewers read (see Flight).
//
// The API, in the order a request uses it:
//
//	f, ctx, leader, wake := g.Join(key, newCtx) // the leader starts the fetch with ctx
//	// the fetch ends its wait exactly once, with one of:
//	f.Begin(head) … f.Fill(ctx, body, limit, length) … f.End(err) // Shared: the body follows
//	f.Answer(Failed|Stored, head, body)                              // a whole answer
//	taken := f.Hand(head)                                            // Direct: the leader's alone
//	<-wake; f.Outcome(), f.Head()                                    // every viewer, once woken
//	r := f.NewReader(abort); r.Next(ctx, flusher) …; g.LeaveReader(r) // reading the body
//	g.Leave(f)                                                       // leaving without reading
//
// H is the caller's description of the answer (status, headers, …): a
// flight only carries it from the fetch to the viewers.
package collapse

import "context"

// Outcome is how a flight's fetch ended its viewers' wait. It is set once,
// before they wake, and never changes.
type Outcome int

// The outcomes.
const (
	// Pending: the wait has not ended.
	Pending Outcome = iota
	// Shared: the answer is shared by every viewer; its body follows in
	// the flight (Begin, Fill, End).
	Shared
	// Direct: the answer belongs to the leader alone (it may not be
	// shared): the leader streams it, the other viewers fetch on their own
	// (Hand).
	Direct
	// Failed: the fetch failed; the error answer is shared whole (Answer).
	Failed
	// Stored: a cached object answers (revalidated, or served stale); it
	// is shared whole (Answer).
	Stored
)

// Outcome reports how the wait ended (Pending before the viewer woke).
func (f *Flight[H]) Outcome() Outcome { return f.outcome }

// Head is the answer's description, set with the outcome.
func (f *Flight[H]) Head() H { return f.head }

// Key is the flight's cache key.
func (f *Flight[H]) Key() string { return f.key }

// Cancel releases the fetch's context: the leader calls it when done with
// a Direct answer it streamed itself.
func (f *Flight[H]) Cancel() { f.cancel() }

// Begin ends the viewers' wait with a Shared answer whose body is still to
// come (Fill): they wake and read it as it arrives.
func (f *Flight[H]) Begin(head H) {
	f.outcome, f.head = Shared, head
	close(f.ready)
}

// End completes a flight that Began: no viewer joins it any more, its body
// is complete (err nil) or failed, and the fetch's context is released.
// End, Answer and Hand are the one place of that order.
func (f *Flight[H]) End(err error) {
	f.g.forget(f)
	f.finish(err)
	f.cancel()
}

// Answer ends the viewers' wait with a whole answer, Failed or Stored,
// whose body is body, and completes the flight.
func (f *Flight[H]) Answer(o Outcome, head H, body []byte) {
	f.g.forget(f)
	f.SetBody(body)
	f.outcome, f.head = o, head
	close(f.ready)
	f.finish(nil)
	f.cancel()
}

// Hand ends the viewers' wait with a Direct answer: the leader takes it
// and the others fetch on their own. It reports whether the leader is
// still there to take it; when it is not, the fetch's context is released
// and the caller closes what it would have handed over.
func (f *Flight[H]) Hand(head H) (taken bool) {
	f.g.forget(f)
	f.mu.Lock()
	taken = !f.leaderGone
	f.outcome, f.head = Direct, head
	// Nothing is shared from here on: a viewer leaving must not cancel the
	// fetch whose body the leader now streams itself (it calls Cancel).
	f.done = true
	f.mu.Unlock()
	close(f.ready)
	if !taken {
		f.cancel()
	}
	return taken
}

// LeaderLeft tells the flight that its leader's viewer left before the
// answer was known: a Direct answer is then not taken.
func (f *Flight[H]) LeaderLeft() {
	f.mu.Lock()
	f.leaderGone = true
	f.mu.Unlock()
}

// Detached returns a flight outside the group, with no viewer and no
// leader (a background revalidation): nobody joins it, and it ends like
// any other.
func (g *Group[H]) Detached(key string, cancel context.CancelFunc) *Flight[H] {
	f := newFlight(g, key, cancel)
	f.g, f.refs, f.leaderGone = nil, 0, true
	return f
}

// Body returns the body received so far; only the fetching goroutine
// calls it (to store the body once Fill returned).
func (f *Flight[H]) Body() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.body
}

// Writer returns a writer that appends to the flight's body and wakes its
// readers (a compressor's output); only the fetching goroutine writes.
func (f *Flight[H]) Writer() *BodyWriter[H] { return &BodyWriter[H]{f} }

// BodyWriter appends what is written to a flight's body.
type BodyWriter[H any] struct{ f *Flight[H] }

func (w *BodyWriter[H]) Write(p []byte) (int, error) {
	w.f.mu.Lock()
	b := w.f.body
	w.f.mu.Unlock()
	w.f.publish(append(b, p...), false, nil)
	return len(p), nil
}
