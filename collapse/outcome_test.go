package collapse

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

// TestOutcomes: for each way a fetch ends the wait, viewers that joined
// before it (several, concurrently) wake with the same outcome and head,
// read the same body, and the group forgets the flight and releases the
// fetch's context exactly as the outcome says. Run with -race: the head is
// written by the fetcher and read by the viewers without a lock.
func TestOutcomes(t *testing.T) {
	body := bytes.Repeat([]byte("b"), 100_000)
	for _, tc := range []struct {
		name       string
		end        func(f *Flight[string]) // the fetcher's side
		want       Outcome
		wantBody   []byte // nil: the viewers do not read a body
		leaderGone bool
	}{
		{"shared: the body follows", func(f *Flight[string]) {
			f.Begin("head")
			if _, err := f.Fill(context.Background(), bytes.NewReader(body), 1<<20, int64(len(body))); err != nil {
				t.Error(err)
			}
			f.End(nil)
		}, Shared, body, false},
		{"failed: a whole error answer", func(f *Flight[string]) { f.Answer(Failed, "head", []byte("error page")) }, Failed, []byte("error page"), false},
		{"stored: a cached object", func(f *Flight[string]) { f.Answer(Stored, "head", body) }, Stored, body, false},
		{"direct: the leader's alone", func(f *Flight[string]) {
			if !f.Hand("head") {
				t.Error("Hand: the leader is there, but it was not taken")
			}
		}, Direct, nil, false},
		{"direct, leader gone: not taken", func(f *Flight[string]) {
			if f.Hand("head") {
				t.Error("Hand: the leader left, but it was taken")
			}
		}, Direct, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewGroup[string](0)
			var canceled atomic.Int32
			newCtx := func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				return ctx, func() { canceled.Add(1); cancel() }
			}
			f, _, leader, leaderWake := g.Join("k", newCtx)
			if !leader {
				t.Fatal("the first viewer is not the leader")
			}
			if tc.leaderGone {
				f.LeaderLeft()
			}
			const viewers = 8
			wakes := make([]<-chan struct{}, viewers)
			for i := range wakes {
				_, _, _, wakes[i] = g.Join("k", newCtx)
			}
			var wg sync.WaitGroup
			for i := range viewers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-wakes[i]
					if f.Outcome() != tc.want || f.Head() != "head" {
						t.Errorf("viewer %d woke to %v %q", i, f.Outcome(), f.Head())
					}
					if tc.wantBody == nil {
						g.Leave(f)
						return
					}
					r := f.NewReader(nil)
					defer g.LeaveReader(r)
					var got []byte
					for {
						chunk, done, err := r.Next(context.Background(), nil)
						got = append(got, chunk...)
						if done {
							if err != nil || !bytes.Equal(got, tc.wantBody) {
								t.Errorf("viewer %d read %d bytes, err %v", i, len(got), err)
							}
							return
						}
					}
				}()
			}
			tc.end(f)
			<-leaderWake
			wg.Wait()
			if tc.want == Direct && !tc.leaderGone {
				f.Cancel() // the leader, done streaming
			}
			g.Leave(f)
			if n := g.Len(); n != 0 {
				t.Errorf("the group still holds %d flights", n)
			}
			if n := canceled.Load(); n < 1 {
				t.Error("the fetch's context was never released")
			}
			// A viewer that comes now starts a new flight.
			if f2, _, leader, _ := g.Join("k", newCtx); !leader || f2 == f {
				t.Error("a viewer after the end joined the ended flight")
			}
		})
	}
}

// TestDetachedFlight: a flight outside the group (a background
// revalidation) is never joined and hands a Direct answer to nobody.
func TestDetachedFlight(t *testing.T) {
	g := NewGroup[string](0)
	canceled := false
	f := g.Detached("k", func() { canceled = true })
	if f2, _, leader, _ := g.Join("k", func() (context.Context, context.CancelFunc) {
		return context.WithCancel(context.Background())
	}); !leader || f2 == f {
		t.Error("a viewer joined a detached flight")
	}
	if f.Hand("head") || !canceled {
		t.Error("a detached flight's Direct answer was taken, or its context kept")
	}
}
