package cluster

import (
	"context"
	"time"
)

// Crash stops n as a crash would: its member entry stays in the bucket
// until it expires, and its embedded NATS server goes away.
func (n *Node) Crash() { n.close(false) }

// WithAckWait returns o with the AckWait of the node's durable consumer
// set to d: how long JetStream waits for the node to acknowledge a batch
// before it delivers the batch again.
func WithAckWait(o Options, d time.Duration) Options {
	o.ackWait = d
	return o
}

// WaitApplied waits, within ctx, until n applied the log up to seq.
func (n *Node) WaitApplied(ctx context.Context, seq uint64) error { return n.waitApplied(ctx, seq) }

// Redelivered returns how many batches JetStream delivered to n again
// (its acknowledgement did not come within AckWait) that n has not
// acknowledged yet.
func (n *Node) Redelivered(ctx context.Context) (int, error) {
	ci, err := n.durable.Info(ctx)
	if err != nil {
		return 0, err
	}
	return ci.NumRedelivered, nil
}
