package cluster

import (
	"slices"
	"time"
)

// Status is a node's view of its cluster, for `edgefront cluster status`
// (served as JSON on the admin listener's /cluster/status).
type Status struct {
	Cluster string `json:"cluster"`
	Node    string `json:"node"` // the node answering
	// Members are the nodes whose member entry this node has, this one
	// first, then by name.
	Members []MemberStatus `json:"members"`
	// Log is the invalidation log as this node knows it.
	Log LogStatus `json:"invalidations"`
	// ConfigRevision is the configuration bucket's last revision this
	// node applied.
	ConfigRevision uint64 `json:"configRevision"`
	// Ring is the shared cache tier's nodes as this node sees them (none
	// when it takes no part in it).
	Ring  []string    `json:"ring"`
	Peers PeersStatus `json:"peers"`
}

// MemberStatus is one node as the answering node sees it.
type MemberStatus struct {
	Name    string `json:"name"`
	Applied uint64 `json:"applied"` // the last batch of the log it applied
	Behind  uint64 `json:"behind"`  // batches of the log it has not applied
	Peer    string `json:"peer,omitempty"`
	// Seen is how long ago its entry was written (0 for the answering
	// node); Live whether that is within the member TTL (it counts for
	// Completed), OnRing whether it is on the shared tier's ring.
	Seen   time.Duration `json:"seen"`
	Live   bool          `json:"live"`
	OnRing bool          `json:"onRing"`
}

// LogStatus is the invalidation log's replication on the answering node.
type LogStatus struct {
	Applied uint64 `json:"applied"`
	Last    uint64 `json:"last"`
	Behind  uint64 `json:"behind"`
}

// PeersStatus counts the shared tier's requests of the answering node.
type PeersStatus struct {
	Asked  uint64 `json:"asked"`
	Failed uint64 `json:"failed"` // asked, failed, and the origin asked instead
	Served uint64 `json:"served"`
}

// Status returns this node's view of the cluster.
func (n *Node) Status() Status {
	last := max(n.last.Load(), n.applied.Load())
	ring := n.Ring()
	self := n.o.Cluster.Node
	st := Status{
		Cluster: n.o.Cluster.Name, Node: self,
		Log:            LogStatus{Applied: n.applied.Load(), Last: last, Behind: n.Behind()},
		ConfigRevision: n.ConfigRevision(),
		Ring:           ring,
	}
	st.Peers.Asked, st.Peers.Failed, st.Peers.Served = n.PeerStats()
	st.Members = append(st.Members, MemberStatus{Name: self, Applied: st.Log.Applied, Behind: st.Log.Behind, Peer: n.peers.url,
		Live: true, OnRing: slices.Contains(ring, self)})
	n.members.mu.Lock()
	now := n.members.now()
	var others []MemberStatus
	for name, s := range n.members.nodes {
		if name == self || now.Sub(s.at) > 10*n.members.ttl {
			continue // (gone long ago: its entry expired unseen)
		}
		m := MemberStatus{Name: name, Applied: s.applied, Peer: s.peer, Seen: now.Sub(s.at),
			Live: now.Sub(s.at) < n.members.ttl, OnRing: slices.Contains(ring, name)}
		if last > s.applied {
			m.Behind = last - s.applied
		}
		others = append(others, m)
	}
	n.members.mu.Unlock()
	slices.SortFunc(others, func(a, b MemberStatus) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	st.Members = append(st.Members, others...)
	return st
}
