package cluster

import (
	"fmt"
	"math"
	"testing"
)

// TestRing: every node computes the same owners from the same members
// whatever their order; no node owns more than the load bound of the
// partitions; a node leaving moves only a few keys besides its own.
func TestRing(t *testing.T) {
	tests := []struct {
		name  string
		nodes []string
	}{
		{"one", []string{"edge-a"}},
		{"three", []string{"edge-a", "edge-b", "edge-c"}},
		{"five", []string{"e1", "e2", "e3", "e4", "e5"}},
		{"ten", []string{"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRing(tt.nodes)
			rev := make([]string, len(tt.nodes))
			for i, n := range tt.nodes {
				rev[len(tt.nodes)-1-i] = n
			}
			r2 := newRing(rev)
			bound := int(math.Ceil(ringLoad * ringPartitions / float64(len(tt.nodes))))
			owned := map[string]int{}
			for p := range ringPartitions {
				if r.nodes[r.owner[p]] != r2.nodes[r2.owner[p]] {
					t.Fatalf("partition %d: owner depends on the members' order", p)
				}
				owned[r.nodes[r.owner[p]]]++
			}
			for n, c := range owned {
				if c > bound {
					t.Errorf("%s owns %d partitions, more than the bound %d", n, c, bound)
				}
			}
			if len(owned) != len(tt.nodes) {
				t.Errorf("%d of %d nodes own partitions: %v", len(owned), len(tt.nodes), owned)
			}
			if len(tt.nodes) < 3 {
				return
			}
			// One node leaves: the keys of the others mostly stay.
			gone := tt.nodes[0]
			after := newRing(tt.nodes[1:])
			moved, kept := 0, 0
			for i := range 10000 {
				k := fmt.Sprintf("EDIST/path/%d.js", i)
				before := r.ownerOf(k)
				if before == gone {
					continue
				}
				if after.ownerOf(k) != before {
					moved++
				} else {
					kept++
				}
			}
			if frac := float64(moved) / float64(moved+kept); frac > 0.25 {
				t.Errorf("%s leaving moved %.0f%% of the other nodes' keys", gone, 100*frac)
			}
		})
	}
}
