package collapse

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

// closed reports whether ch is closed, waiting up to d for it.
func closed(ch <-chan struct{}, d time.Duration) bool {
	if d == 0 {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// TestJoinQueuedWakesEveryViewer: viewers of a flight are woken only once
// its response is known, every one of them (also those queued behind the
// first wakeGroup, and whichever left early), and a viewer that joins
// after that does not wait at all.
func TestJoinQueuedWakesEveryViewer(t *testing.T) {
	cases := []struct {
		name    string
		viewers int
		queues  int // wake channels beyond ready
	}{
		{"leader alone", 1, 0},
		{"one group", wakeGroup, 0},
		{"one more than a group", wakeGroup + 1, 1},
		{"a storm", 1000, (1000 - 1) / wakeGroup},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewGroup[int](0)
			canceled := false
			newCtx := func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				return ctx, func() { canceled = true; cancel() }
			}
			var f *Flight[int]
			wakes := make([]<-chan struct{}, c.viewers)
			for i := range c.viewers {
				var leader bool
				var fi *Flight[int]
				fi, _, leader, wakes[i] = g.Join("k", newCtx)
				if leader != (i == 0) {
					t.Fatalf("viewer %d: leader %v", i, leader)
				}
				if f == nil {
					f = fi
				} else if fi != f {
					t.Fatalf("viewer %d joined another flight", i)
				}
			}
			f.mu.Lock()
			queues, refs := len(f.queue), f.refs
			f.mu.Unlock()
			if queues != c.queues || refs != c.viewers {
				t.Fatalf("%d wake queues, %d refs; want %d, %d", queues, refs, c.queues, c.viewers)
			}
			for i, w := range wakes {
				if closed(w, 0) {
					t.Fatalf("viewer %d woken before the response was known", i)
				}
			}
			// A viewer of the second group leaves before the response: the
			// others are woken all the same, and the fetch goes on.
			if c.viewers > wakeGroup {
				g.Leave(f)
			}
			close(f.ready)
			for i, w := range wakes {
				if !closed(w, 5*time.Second) {
					t.Fatalf("viewer %d of %d never woken", i, c.viewers)
				}
			}
			if _, _, _, w := g.Join("k", newCtx); !closed(w, 0) {
				t.Error("a viewer joining after the response waits")
			}
			if canceled {
				t.Error("the fetch was cancelled while viewers read it")
			}
		})
	}
}

// TestGroupLeave: the fetch is cancelled when the last viewer leaves a
// flight whose body is not complete, never before and never once it is.
func TestGroupLeave(t *testing.T) {
	for _, done := range []bool{false, true} {
		g := NewGroup[int](0)
		canceled := false
		newCtx := func() (context.Context, context.CancelFunc) {
			return context.Background(), func() { canceled = true }
		}
		f, _, _, _ := g.Join("k", newCtx)
		for range 2 {
			g.Join("k", newCtx)
		}
		if done {
			f.finish(nil)
		}
		g.Leave(f)
		g.Leave(f)
		if canceled {
			t.Fatalf("done=%v: cancelled with a viewer left", done)
		}
		g.Leave(f)
		if canceled != !done {
			t.Errorf("done=%v: cancelled=%v after the last viewer left", done, canceled)
		}
		if g.Len() != map[bool]int{false: 0, true: 1}[done] {
			// A done flight is forgotten by its fetcher, not by its viewers.
			t.Errorf("done=%v: %d flights in the group", done, g.Len())
		}
	}
}

// TestFillWakesOnceAtTheEnd: the read that ends the body does not wake the
// readers; finish does, with the whole body, so a reader of a small object
// writes it in one piece instead of writing, flushing and waiting again.
func TestFillWakesOnceAtTheEnd(t *testing.T) {
	cases := []struct {
		name string
		r    func() io.Reader
		body string
	}{
		{"data with EOF", func() io.Reader { return iotest.DataErrReader(stringsReader("slow key\n")) }, "slow key\n"},
		{"data, then EOF", func() io.Reader { return stringsReader("slow key\n") }, "slow key\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := NewGroup[int](0).Detached("k", func() {})
			if _, err := f.Fill(context.Background(), c.r(), 1<<20, -1); err != nil {
				t.Fatal(err)
			}
			body, done, _ := f.Snapshot()
			if string(body) != c.body || done {
				t.Fatalf("after fill: %q, done %v", body, done)
			}
			f.mu.Lock()
			pending := f.more
			f.mu.Unlock()
			if closed(pending, 0) {
				t.Fatal("the current wake-up channel is closed")
			}
			f.finish(nil)
			if !closed(pending, 0) {
				t.Fatal("finish did not wake the readers")
			}
			rd := f.NewReader(nil)
			chunk, done, err := rd.Next(context.Background(), nil)
			if string(chunk) != c.body || done || err != nil {
				t.Fatalf("next: %q %v %v", chunk, done, err)
			}
			if _, done, _ := rd.Next(context.Background(), nil); !done {
				t.Fatal("not done after the whole body")
			}
		})
	}
}

// stringsReader returns what a plain reader of s returns: the data, then
// (0, io.EOF) on the next read.
func stringsReader(s string) io.Reader { return &onceReader{s: s} }

type onceReader struct{ s string }

func (r *onceReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

// patternReader is an endless body: byte p is byte(p % 251). It counts what
// it has been asked for.
type patternReader struct {
	mu sync.Mutex
	n  int
}

func (r *patternReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range p {
		p[i] = byte((r.n + i) % 251)
	}
	r.n += len(p)
	return len(p), nil
}

func (r *patternReader) read() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// waitFor polls cond (under nobody's lock but its own) until it holds, for
// up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}

// TestStreamFollowsSlowestViewer: a streaming flight reads the origin no
// more than Window bytes ahead of its slowest viewer (here one that
// joined and has not begun to read, at byte 0), takes no newcomer while it
// waits for that viewer (a newcomer starts another flight), goes on when
// that viewer leaves, and ends when the last one does.
func TestStreamFollowsSlowestViewer(t *testing.T) {
	g := NewGroup[int](0)
	newCtx := func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }
	f, ctx, _, _ := g.Join("k", newCtx)
	g.Join("k", newCtx) // the slow viewer: never reads
	src := &patternReader{}
	filled := make(chan error, 1)
	go func() {
		_, err := f.Fill(ctx, src, 0, -1) // nothing may be stored: it streams
		filled <- err
	}()
	fast := f.NewReader(nil)
	// A viewer that is never served fails the test instead of hanging it.
	readCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	check := func(chunk []byte, at int) {
		t.Helper()
		for i, b := range chunk {
			if b != byte((at+i)%251) {
				t.Fatalf("byte %d is %d, want %d", at+i, b, byte((at+i)%251))
			}
		}
	}
	got := 0
	for got < Window {
		chunk, done, err := fast.Next(readCtx, nil)
		if done {
			t.Fatalf("done after %d bytes: %v", got, err)
		}
		check(chunk, got)
		got += len(chunk)
	}
	waitFor(t, "the fetch to wait for the slow viewer", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.space != nil
	})
	if n := src.read(); n != Window {
		t.Fatalf("read %d bytes of the origin's body, want %d (the window)", n, Window)
	}
	if f2, _, leader, _ := g.Join("k", newCtx); !leader || f2 == f {
		t.Error("a newcomer joined a flight held back by a slow viewer")
	}
	g.Leave(f) // the slow viewer leaves without reading
	for got < 4*Window {
		chunk, done, err := fast.Next(readCtx, nil)
		if done {
			t.Fatalf("done after %d bytes: %v", got, err)
		}
		check(chunk, got)
		got += len(chunk)
	}
	g.LeaveReader(fast)
	g.LeaveReader(fast) // a second leave is a no-op
	select {
	case err := <-filled:
		if !errors.Is(err, context.Canceled) && !errors.Is(err, ErrNoViewers) {
			t.Errorf("fill ended with %v, want the fetch cancelled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the fetch goes on with no viewer")
	}
}
