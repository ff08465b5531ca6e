package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgefront/edgefront/control"
)

// This file is the shared configuration: what the CloudFront API makes on
// any node — DistributionConfigs, functions, key value stores — one entry
// per object in a JetStream key-value bucket, written with compare-and-set
// on the entry's revision (control.SharedConfig) and applied by every node
// as it changes (Node.SyncConfig).

// configBucketName names the cluster's configuration bucket.
func configBucketName(cluster string) string { return "edgefront-" + cluster + "-config" }

// Sharer applies entries of the shared configuration to this node
// (control.API.ApplyShared).
type Sharer interface {
	ApplyShared(ctx context.Context, entries []control.SharedEntry) error
}

// Write stores e in the configuration bucket if its entry is still at
// e.Rev (control.SharedConfig): Create for 0, Update otherwise, a delete
// marker for a nil Value.
func (n *Node) Write(ctx context.Context, e control.SharedEntry) (uint64, error) {
	var rev uint64
	var err error
	switch {
	case e.Value == nil && e.Rev == 0:
		return 0, nil
	case e.Value == nil:
		err = n.config.Delete(ctx, e.Key, jetstream.LastRevision(e.Rev))
	case e.Rev == 0:
		rev, err = n.config.Create(ctx, e.Key, e.Value)
	default:
		rev, err = n.config.Update(ctx, e.Key, e.Value, e.Rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) || isWrongLastSequence(err) {
		return 0, fmt.Errorf("cluster: %s (revision %d): %w", e.Key, e.Rev, control.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("cluster: writing %s: %w", e.Key, err)
	}
	n.noteConfig(rev)
	return rev, nil
}

// isWrongLastSequence reports whether err is JetStream's compare-and-set
// failure (a delete with an expected revision reports it as is).
func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// SyncConfig applies the configuration bucket to this node through s: every
// entry it holds now, at once, before SyncConfig returns (call it before
// the node serves), then each change as it comes, in the bucket's order,
// until Close. An entry this node cannot apply is logged and skipped.
func (n *Node) SyncConfig(ctx context.Context, s Sharer) error {
	bg, cancel := context.WithCancel(context.Background())
	w, err := n.config.WatchAll(bg)
	if err != nil {
		cancel()
		return fmt.Errorf("cluster: watching the configuration bucket: %w", err)
	}
	var initial []control.SharedEntry
	var last uint64
	for done := false; !done; {
		select {
		case e := <-w.Updates():
			if e == nil {
				done = true
				break
			}
			if e.Key() == seedKey || e.Key() == tokenKey {
				continue
			}
			initial = append(initial, entryOf(e))
			last = max(last, e.Revision())
		case <-ctx.Done():
			_ = w.Stop()
			cancel()
			return fmt.Errorf("cluster: reading the configuration bucket: %w", ctx.Err())
		}
	}
	if len(initial) > 0 {
		applied := len(initial)
		if err := s.ApplyShared(ctx, initial); err != nil {
			// One entry this node cannot load (its settings lack the
			// distribution, a function fails to compile here) must not
			// keep it from starting with the others.
			applied = 0
			for _, e := range initial {
				if err := s.ApplyShared(ctx, []control.SharedEntry{e}); err != nil {
					n.log.ErrorContext(ctx, "cluster: a shared configuration entry could not be applied; this node goes on without it",
						"key", e.Key, "revision", e.Rev, "err", err)
					continue
				}
				applied++
			}
		}
		n.log.InfoContext(ctx, "cluster: applied the shared configuration", "entries", applied, "of", len(initial), "revision", last)
	}
	n.noteConfig(last)
	n.stopConfig = cancel
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer func() { _ = w.Stop() }()
		for {
			select {
			case <-bg.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil || e.Key() == seedKey || e.Key() == tokenKey {
					continue
				}
				actx, acancel := context.WithTimeout(bg, 30*time.Second)
				if err := s.ApplyShared(actx, []control.SharedEntry{entryOf(e)}); err != nil {
					n.log.ErrorContext(actx, "cluster: a shared configuration entry could not be applied; this node keeps its configuration",
						"key", e.Key(), "revision", e.Revision(), "err", err)
				}
				acancel()
				n.noteConfig(e.Revision())
			}
		}
	}()
	return nil
}

// entryOf is a bucket entry as the control API takes it.
func entryOf(e jetstream.KeyValueEntry) control.SharedEntry {
	se := control.SharedEntry{Key: e.Key(), Rev: e.Revision()}
	if e.Operation() == jetstream.KeyValuePut {
		se.Value = e.Value()
	}
	return se
}

// noteConfig records that this node applied the configuration bucket up to
// rev.
func (n *Node) noteConfig(rev uint64) {
	for {
		cur := n.configRev.Load()
		if rev <= cur || n.configRev.CompareAndSwap(cur, rev) {
			return
		}
	}
}

// ConfigRevision returns the configuration bucket's last revision this
// node applied (0: none yet).
func (n *Node) ConfigRevision() uint64 { return n.configRev.Load() }

var _ control.SharedConfig = (*Node)(nil)

// seedKey is the configuration bucket's entry that says which settings the
// cluster was first started with; tokenKey the one that holds the secret
// the nodes' peer requests carry (peers.go).
const (
	seedKey  = "seed"
	tokenKey = "peer-token"
)

// peerToken returns the cluster's peer token, making it if the bucket has
// none yet (the first node to start does).
func (n *Node) peerToken(ctx context.Context) (string, error) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	if _, err := n.config.Create(ctx, tokenKey, []byte(token)); err == nil {
		return token, nil
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return "", fmt.Errorf("peer token: %w", err)
	}
	e, err := n.createdEntry(ctx, tokenKey)
	if err != nil {
		return "", fmt.Errorf("peer token: %w", err)
	}
	return string(e.Value()), nil
}

// createdEntry reads the configuration bucket's entry key, which another
// node has just created (this node's Create found it). The bucket's reads
// may be answered by a replica that has not applied that write yet (direct
// gets), so "not found" is asked again, for up to createdWait.
func (n *Node) createdEntry(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	ctx, cancel := context.WithTimeout(ctx, createdWait)
	defer cancel()
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		e, err := n.config.Get(ctx, key)
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return e, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// createdWait bounds createdEntry's wait for a replica to catch up.
const createdWait = 10 * time.Second

// seed is the seedKey entry.
type seed struct {
	Node     string    `json:"node"`
	Settings string    `json:"settings"` // control.SettingsDigest of the node's settings
	At       time.Time `json:"at"`
}

// Seed stamps the configuration bucket, when it has no stamp yet, with the
// digest of this node's settings (the first node of a cluster does), and
// reports whether the stamp's digest is this node's: the shared
// configuration is applied over each node's settings, so every node should
// load the same file. by names the node that stamped it.
func (n *Node) Seed(ctx context.Context, settings string) (same bool, by string, err error) {
	b, _ := json.Marshal(seed{Node: n.o.Cluster.Node, Settings: settings, At: time.Now().UTC()})
	if _, err := n.config.Create(ctx, seedKey, b); err == nil {
		return true, n.o.Cluster.Node, nil
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return false, "", fmt.Errorf("cluster: stamping the configuration bucket: %w", err)
	}
	e, err := n.createdEntry(ctx, seedKey)
	if err != nil {
		return false, "", fmt.Errorf("cluster: reading the configuration bucket's stamp: %w", err)
	}
	var s seed
	if err := json.Unmarshal(e.Value(), &s); err != nil {
		return false, "", fmt.Errorf("cluster: the configuration bucket's stamp: %w", err)
	}
	return s.Settings == settings, s.Node, nil
}
