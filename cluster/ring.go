package cluster

import (
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"strconv"
)

// ring assigns cache keys to the live nodes by consistent hashing with
// bounded loads (Mirrokni, Thorup and Zadimoghaddam, "Consistent Hashing
// with Bounded Loads", SODA 2018), in the partitioned form of
// github.com/buraksezer/consistent: keys hash to one of a fixed number of
// partitions; each partition goes to the first node clockwise of it on a
// ring of the nodes' virtual points that has room, a node having room for
// at most ⌈load × partitions / nodes⌉ partitions. No node owns more than
// load times its share, and a node joining or leaving moves only the
// partitions it takes or gives up (plus those displaced by the bound).
//
// The assignment depends on the node names alone: every node that sees the
// same members computes the same owners.
type ring struct {
	nodes []string // sorted
	owner []int    // partition → index in nodes
}

// Ring parameters: enough partitions to spread a few dozen nodes evenly,
// enough virtual points per node to balance the walk, and the load bound
// the paper's experiments favour.
const (
	ringPartitions = 271
	ringReplicas   = 40
	ringLoad       = 1.25
)

func hash64(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return mix(h.Sum64())
}

// mix finalises a hash (SplitMix64's): FNV's low bits, which the partition
// index uses, are weak for similar strings.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// newRing assigns the partitions to nodes (at least one).
func newRing(nodes []string) *ring {
	r := &ring{nodes: slices.Sorted(slices.Values(nodes)), owner: make([]int, ringPartitions)}
	r.nodes = slices.Compact(r.nodes)
	type point struct {
		h    uint64
		node int
	}
	points := make([]point, 0, len(r.nodes)*ringReplicas)
	for i, n := range r.nodes {
		for v := range ringReplicas {
			points = append(points, point{hash64(n + "#" + strconv.Itoa(v)), i})
		}
	}
	slices.SortFunc(points, func(a, b point) int {
		switch {
		case a.h < b.h:
			return -1
		case a.h > b.h:
			return 1
		}
		return a.node - b.node
	})
	capacity := int(math.Ceil(ringLoad * ringPartitions / float64(len(r.nodes))))
	loads := make([]int, len(r.nodes))
	for p := range ringPartitions {
		h := hash64("partition-" + strconv.Itoa(p))
		at := sort.Search(len(points), func(i int) bool { return points[i].h >= h })
		for i := 0; ; i++ {
			pt := points[(at+i)%len(points)]
			if loads[pt.node] < capacity {
				loads[pt.node]++
				r.owner[p] = pt.node
				break
			}
		}
	}
	return r
}

// ownerOf returns the node that owns key.
func (r *ring) ownerOf(key string) string {
	return r.nodes[r.owner[hash64(key)%ringPartitions]]
}
