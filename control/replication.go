package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// This file is the control API's side of a cluster of nodes: with a
// Replicator (Options.Invalidations), CreateInvalidation appends the batch
// to the cluster's log instead of applying it, and every node — this one
// too — applies every batch of the log through API.Apply.

// Replicator shares invalidation batches with the other nodes of a
// cluster (package cluster implements it over NATS JetStream). A single
// node has none.
type Replicator interface {
	// Publish appends b to the cluster's log and returns its position in
	// the log once this node has applied it (API.Apply).
	Publish(ctx context.Context, b Batch) (seq uint64, err error)
	// Completed reports whether every live node of the cluster has
	// applied the batch at seq. It is called under locks and must not
	// block.
	Completed(seq uint64) bool
}

// Batch is one invalidation batch as the nodes of a cluster share it.
type Batch struct {
	Distribution    string    `json:"distribution"`
	ID              string    `json:"id"`
	CallerReference string    `json:"callerReference"`
	Paths           []string  `json:"paths"` // as submitted
	Created         time.Time `json:"created"`
	// Seq is the batch's position in the cluster's log, At when its ban
	// takes effect on the node applying it: cached objects stored before
	// At are invalidated (Created when zero). Both are the replicator's,
	// set when it hands the batch to Apply.
	Seq uint64    `json:"-"`
	At  time.Time `json:"-"`
}

// Apply applies b, a batch of the cluster's log whoever created it, to
// this node: the cached objects its paths name and that were stored before
// b.At are invalidated, and Get/ListInvalidations report it — Completed
// once the replicator says every live node applied it. Applying a batch
// again is harmless.
func (a *API) Apply(ctx context.Context, b Batch) {
	h := a.h
	if b.Distribution == AllDistributions {
		// Not a batch anyone created: the node missed some, and drops
		// everything it cached (cluster.Node.Run).
		if cfg := h.b.Config(); cfg != nil {
			for _, d := range cfg.Distributions {
				h.b.Invalidate(d.ID, []string{"/*"}, b.At)
			}
		}
		return
	}
	norm := make([]string, 0, len(b.Paths))
	for _, p := range b.Paths {
		n, err := normalizePath(p)
		if err != nil { // checked by the node that created it
			h.o.Logger.WarnContext(ctx, "replicated invalidation path refused", "distribution", b.Distribution, "id", b.ID, "err", err)
			continue
		}
		norm = append(norm, n)
	}
	at := b.At
	if at.IsZero() {
		at = b.Created
	}
	h.b.Invalidate(b.Distribution, norm, at)
	inv := &invalidation{id: b.ID, callerReference: b.CallerReference, paths: b.Paths, created: b.Created,
		done: b.Created.Add(h.o.InvalidationInProgress), seq: b.Seq}
	if r := h.o.Invalidations; r != nil {
		inv.completed = r.Completed
	}
	h.inv.record(b.Distribution, inv, h.o.Now())
}

// AllDistributions as a Batch's Distribution makes Apply drop every cached
// object of every distribution (a node that missed batches).
const AllDistributions = "*"

// publishInvalidation is CreateInvalidation with a Replicator: the batch
// of dist with caller reference ref is appended to the cluster's log and
// applied by every node. It returns the batch as this node then knows it,
// and whether it is new.
func (h *handler) publishInvalidation(ctx context.Context, dist, ref string, paths []string, now time.Time) (*invalidation, bool, error) {
	if old, err := h.inv.check(dist, ref, paths, now); old != nil || err != nil {
		return old, false, err
	}
	id := newID('I')
	_, err := h.o.Invalidations.Publish(ctx, Batch{Distribution: dist, ID: id, CallerReference: ref, Paths: paths, Created: now})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, false, err
		}
		return nil, false, &Error{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable",
			Message: fmt.Sprintf("the invalidation could not be shared with the cluster: %v", err)}
	}
	if inv, ok := h.inv.get(dist, id); ok {
		return inv, true, nil
	}
	// Another node's batch with the same caller reference came first in
	// the log: every node keeps that one.
	inv, ok := h.inv.byReference(dist, ref)
	switch {
	case !ok:
		return nil, false, &Error{Status: http.StatusInternalServerError, Code: "InternalError",
			Message: "the invalidation was shared with the cluster but is not recorded"}
	case !samePaths(inv.paths, paths):
		return nil, false, errBatchExists
	}
	return inv, false, nil
}
