//go:build race

package cache

// raceEnabled reports whether the tests run under the race detector, whose
// sync.Pool drops a quarter of what is put into it, at random.
const raceEnabled = true
