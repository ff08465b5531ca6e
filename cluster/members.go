package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// member is what a node says of itself in the members bucket, at every
// heartbeat and after every batch it applies.
type member struct {
	Applied uint64 `json:"applied"`        // the log's last sequence this node applied
	Peer    string `json:"peer,omitempty"` // its peer listener's base URL ("": it has none)
}

// seen is a member as this node last heard of it.
type seen struct {
	applied uint64
	peer    string
	at      time.Time // when the entry was written (local clock for updates)
}

// members is the cluster as one node sees it through the members bucket:
// a node is live while its last entry is younger than ttl (the bucket's
// TTL drops older ones from JetStream, a closing node deletes its own).
type members struct {
	kv  jetstream.KeyValue
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	nodes map[string]seen
}

func newMembers(kv jetstream.KeyValue, ttl time.Duration) *members {
	return &members{kv: kv, ttl: ttl, now: time.Now, nodes: map[string]seen{}}
}

// watch follows the bucket until ctx ends.
func (m *members) watch(ctx context.Context, log *slog.Logger) {
	for ctx.Err() == nil {
		w, err := m.kv.WatchAll(ctx)
		if err != nil {
			log.WarnContext(ctx, "cluster members: watching", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		initial := true
		for e := range w.Updates() {
			if e == nil { // the bucket's current entries were all delivered
				initial = false
				continue
			}
			m.update(e, initial)
		}
		_ = w.Stop()
	}
}

// update records a bucket entry.
func (m *members) update(e jetstream.KeyValueEntry, initial bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.Operation() != jetstream.KeyValuePut {
		delete(m.nodes, e.Key())
		return
	}
	var v member
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return
	}
	at := m.now()
	if initial {
		at = e.Created()
	}
	m.nodes[e.Key()] = seen{applied: v.Applied, peer: v.Peer, at: at}
}

// put writes this node's entry.
func (m *members) put(ctx context.Context, node string, applied uint64, peer string) error {
	b, _ := json.Marshal(member{Applied: applied, Peer: peer})
	_, err := m.kv.Put(ctx, node, b)
	return err
}

// leave deletes this node's entry: it is no longer live at once.
func (m *members) leave(ctx context.Context, node string) error {
	err := m.kv.Delete(ctx, node)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	return err
}

// live returns the live nodes other than self and what each applied.
func (m *members) live(self string) map[string]uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	out := make(map[string]uint64, len(m.nodes))
	for name, s := range m.nodes {
		if name != self && now.Sub(s.at) < m.ttl {
			out[name] = s.applied
		}
	}
	return out
}

// peers returns the nodes other than self that have a peer listener,
// whose entry is younger than ttl and was written after the time down
// gives them (if any), with the listener's base URL.
func (m *members) peers(self string, ttl time.Duration, down map[string]time.Time) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	out := make(map[string]string, len(m.nodes))
	for name, s := range m.nodes {
		if name != self && s.peer != "" && now.Sub(s.at) < ttl && !s.at.Before(down[name]) {
			out[name] = s.peer
		}
	}
	return out
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
