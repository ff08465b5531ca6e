package cachesim

import "testing"

func TestPolicies(t *testing.T) {
	tests := []struct {
		name          string
		trace         []int
		objects       int
		lru, lfu, opt float64
		bound         float64
	}{
		// LRU evicts each key just before it comes back; LFU and OPT
		// keep the first two and never admit the third.
		{"cycle", []int{1, 2, 3, 1, 2, 3}, 2, 0, 2.0 / 6, 2.0 / 6, 0.5},
		{"one hot key", []int{1, 2, 1, 3, 1, 2}, 2, 2.0 / 6, 3.0 / 6, 3.0 / 6, 0.5},
		{"fits", []int{1, 2, 1, 2}, 2, 0.5, 0.5, 0.5, 0.5},
		{"no room", []int{1, 1}, 0, 0, 0, 0, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				policy    string
				got, want float64
			}{
				{"LRU", LRU(tt.trace, tt.objects), tt.lru},
				{"LFU", LFU(tt.trace, tt.objects), tt.lfu},
				{"OPT", OPT(tt.trace, tt.objects), tt.opt},
				{"Bound", Bound(tt.trace), tt.bound},
			} {
				if c.got != c.want {
					t.Errorf("%s = %.4f, want %.4f", c.policy, c.got, c.want)
				}
			}
		})
	}
}

// TestZipfCeilings orders the policies on issue 19's trace: LRU ≤ perfect
// LFU ≤ OPT ≤ the compulsory-miss bound, at 10 % and 20 % of the keys.
func TestZipfCeilings(t *testing.T) {
	trace := ZipfTrace(200_000, 100_000)
	bound := Bound(trace)
	for _, objects := range []int{10_000, 20_000} {
		lru, lfu, opt := LRU(trace, objects), LFU(trace, objects), OPT(trace, objects)
		t.Logf("%d objects: LRU %.4f, perfect LFU %.4f, OPT %.4f, bound %.4f", objects, lru, lfu, opt, bound)
		if !(lru <= lfu && lfu <= opt && opt <= bound) {
			t.Errorf("%d objects: want LRU %.4f ≤ LFU %.4f ≤ OPT %.4f ≤ bound %.4f", objects, lru, lfu, opt, bound)
		}
	}
}
