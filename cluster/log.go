package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgefront/edgefront/control"
)

// This file is the invalidation log: publishing a batch, and applying
// every batch in the stream's order — at start what this node missed, then
// each as it comes.

// Applier applies one batch of the log to this node (control.API.Apply).
type Applier func(ctx context.Context, b control.Batch)

// Publish appends b to the log (control.Replicator) and returns its
// sequence once this node has applied it, so that the node that was asked
// answers Get/ListInvalidations with it at once. A batch published again
// with the same ID within an hour is kept once.
func (n *Node) Publish(ctx context.Context, b control.Batch) (uint64, error) {
	data, err := json.Marshal(b)
	if err != nil {
		return 0, fmt.Errorf("cluster: encoding invalidation %s: %w", b.ID, err)
	}
	ack, err := n.js.Publish(ctx, subject(n.o.Cluster.Name, token(b.Distribution)), data, jetstream.WithMsgID(b.ID))
	if err != nil {
		return 0, fmt.Errorf("cluster: publishing invalidation %s: %w", b.ID, err)
	}
	n.noteLast(ack.Sequence)
	wctx, cancel := context.WithTimeout(ctx, publishWait)
	defer cancel()
	if err := n.waitApplied(wctx, ack.Sequence); err != nil {
		return ack.Sequence, fmt.Errorf("cluster: invalidation %s: %w", b.ID, err)
	}
	return ack.Sequence, nil
}

// Run applies the log to this node through apply, and returns once the
// node has caught up with it: call it before the node serves.
//
// It reads where this node's durable consumer stands (the last batch it
// acknowledged, floor) and where the log ends (last). Batches up to floor
// were applied before this process started; they are handed to apply
// again so that Get/ListInvalidations know them, with their bans at their
// creation time (no object stored since is touched). Then the durable
// consumer delivers floor+1 onwards, each batch banning what was stored
// before it was first applied here (handle), and Run waits until it has
// applied last.
// Consumption, heartbeats and the members' watch then go on in the
// background until Close.
func (n *Node) Run(ctx context.Context, apply Applier) error {
	bg, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(1)
	go func() { defer n.wg.Done(); n.members.watch(bg, n.log) }()

	ci, err := n.durable.Info(ctx)
	if err != nil {
		return fmt.Errorf("cluster: consumer %s: %w", n.o.Cluster.Node, err)
	}
	si, err := n.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("cluster: stream: %w", err)
	}
	floor, last := ci.AckFloor.Stream, si.State.LastSeq
	n.noteLast(last)
	if floor > 0 && si.State.FirstSeq > floor+1 {
		// The log moved on past batches this node never applied (it keeps
		// MaxBatches): what it cached may be stale in ways no batch left
		// can tell, so it drops everything.
		n.log.ErrorContext(ctx, "cluster: invalidations were missed beyond what the log keeps; dropping the whole cache",
			"applied", floor, "log starts at", si.State.FirstSeq)
		apply(ctx, control.Batch{Distribution: control.AllDistributions, Paths: []string{"/*"}, At: time.Now(), Created: time.Now()})
	}
	if floor > 0 && si.State.Msgs > 0 && si.State.FirstSeq <= floor {
		if err := n.history(ctx, floor, apply); err != nil {
			return err
		}
		n.noteApplied(floor)
	}
	n.consume, err = n.durable.Consume(func(m jetstream.Msg) { n.handle(bg, m, apply) },
		jetstream.PullExpiry(pullExpiry), jetstream.PullHeartbeat(pullHeartbeat),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if errors.Is(err, jetstream.ErrNoHeartbeat) {
				// A pull request went unanswered; the client has sent another.
				n.log.Warn("cluster: the invalidation log went quiet; asking again", "err", err)
				return
			}
			n.log.Debug("cluster: consuming invalidations", "err", err)
		}))
	if err != nil {
		return fmt.Errorf("cluster: consuming invalidations: %w", err)
	}
	if err := n.waitApplied(ctx, last); err != nil {
		return fmt.Errorf("cluster: replaying the invalidations missed: %w", err)
	}
	if last > floor {
		n.log.InfoContext(ctx, "cluster: replayed the invalidations missed", "batches", last-floor)
	}
	// From now on the node counts for Completed: before, its entry would
	// make batches the others completed look in progress again.
	n.caughtUp.Store(true)
	n.heartbeat(ctx)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		t := time.NewTicker(n.o.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
				n.heartbeat(bg)
			}
		}
	}()
	return nil
}

// history hands apply the batches up to floor, which this node applied
// before, with their bans at their creation time — never later than now:
// a creator's clock ahead of this node's would ban what this node fetches
// until its own gets there. (Their bans as this node first applied them
// are in the store already, saved with it.)
func (n *Node) history(ctx context.Context, floor uint64, apply Applier) error {
	oc, err := n.js.OrderedConsumer(ctx, streamName(n.o.Cluster.Name), jetstream.OrderedConsumerConfig{})
	if err != nil {
		return fmt.Errorf("cluster: reading the invalidation log: %w", err)
	}
	msgs, err := oc.Messages()
	if err != nil {
		return fmt.Errorf("cluster: reading the invalidation log: %w", err)
	}
	defer msgs.Stop()
	for {
		m, err := msgs.Next(jetstream.NextContext(ctx))
		if err != nil {
			return fmt.Errorf("cluster: reading the invalidation log: %w", err)
		}
		b, seq, ok := n.decode(ctx, m)
		if ok {
			b.At = b.Created
			if now := time.Now(); b.At.After(now) {
				b.At = now
			}
			apply(ctx, b)
		}
		if seq >= floor {
			return nil
		}
	}
}

// handle applies one batch delivered by the durable consumer and
// acknowledges it.
//
// The batch bans what this node stored before it began to apply it, by
// this node's clock — the one its objects' stored times are read on — and
// nothing it fetched after, whatever the skew between the nodes' clocks.
// (Not the batch's creation time: with the creator's clock behind this
// one, objects stored before the invalidation was made would stay; with
// it ahead, what this node fetches until its clock gets there would go.
// And what this node stored before it applied the batch, though after it
// was made, may be the invalidated object, from a peer that had not
// applied it either.)
//
// A batch is applied once. The consumer delivers the log in order, one
// batch at a time, so a sequence this node reached is a batch it applied,
// delivered again because the acknowledgement was late or lost: it is
// only acknowledged. (Applied again, its ban would move to the time of
// the second delivery and take the objects fetched in between.) The batch
// counts as applied before the acknowledgement's round trip, and the
// position this node tells the peers it asks is raised before the ban's
// time is read: a fetch that told a peer the older one began before it,
// so what it brings back is banned.
func (n *Node) handle(ctx context.Context, m jetstream.Msg, apply Applier) {
	b, seq, ok := n.decode(ctx, m)
	if ok && seq > n.applied.Load() {
		n.noteApplying(seq)
		b.At = time.Now()
		apply(ctx, b)
	}
	n.noteApplied(seq)
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := m.DoubleAck(actx); err != nil {
		// JetStream delivers it again after AckWait.
		n.log.WarnContext(ctx, "cluster: acknowledging an invalidation", "seq", seq, "err", err)
	}
	if md, err := m.Metadata(); err == nil {
		n.noteLast(seq + md.NumPending)
	}
	if !n.caughtUp.Load() {
		return
	}
	if err := n.members.put(actx, n.o.Cluster.Node, seq, n.peerURL()); err != nil {
		n.log.DebugContext(ctx, "cluster: heartbeat", "err", err)
	}
}

// decode reads a batch of the log and its sequence; ok is false for a
// message that is not one (logged and skipped).
func (n *Node) decode(ctx context.Context, m jetstream.Msg) (b control.Batch, seq uint64, ok bool) {
	md, err := m.Metadata()
	if err != nil {
		n.log.WarnContext(ctx, "cluster: an invalidation log message without metadata", "err", err)
		return b, 0, false
	}
	seq = md.Sequence.Stream
	if err := json.Unmarshal(m.Data(), &b); err != nil {
		n.log.WarnContext(ctx, "cluster: skipping a malformed invalidation", "seq", seq, "err", err)
		return b, seq, false
	}
	b.Seq = seq
	return b, seq, true
}

// heartbeat writes this node's member entry and learns where the log
// ends.
func (n *Node) heartbeat(ctx context.Context) {
	if err := n.members.put(ctx, n.o.Cluster.Node, n.applied.Load(), n.peerURL()); err != nil {
		n.log.DebugContext(ctx, "cluster: heartbeat", "err", err)
	}
	if si, err := n.stream.Info(ctx); err == nil {
		n.noteLast(si.State.LastSeq)
	}
}

// token makes s one NATS subject token: '.', '*', '>' and white space
// become '_'.
func token(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '*' || r == '>' || r <= ' ' {
			return '_'
		}
		return r
	}, s)
}
