package config

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseSize parses a byte size: a plain number of bytes ("4096"), or a
// number with a unit, decimal (kB, MB, GB, TB: powers of 1000) or binary
// (KiB, MiB, GiB, TiB, and the bare K, M, G, T: powers of 1024). Units are
// case-insensitive and fractions are allowed ("1.5GB"); the result is
// rounded down to whole bytes and must be positive.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" {
		return 0, fmt.Errorf("size %q: expected a number of bytes, optionally with a unit like MiB or GB", s)
	}
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", s, t[i:])
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	v := math.Floor(f * float64(mult))
	if v < 1 {
		return 0, fmt.Errorf("size %q: must be at least 1 byte", s)
	}
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return int64(v), nil
}

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// byteSize is a size field of the settings file: a string with a unit or a
// plain number of bytes.
type byteSize struct {
	n   int64
	set bool
}

func (b *byteSize) decodeValue(p *problems, path string, src any) {
	var s string
	switch t := src.(type) {
	case nil:
		return
	case string:
		s = t
	case json.Number:
		s = t.String()
	default:
		p.add(path, "expected a size like \"512MiB\" or a number of bytes, got %s", describe(src))
		return
	}
	n, err := ParseSize(s)
	if err != nil {
		p.add(path, "%v", err)
		return
	}
	b.n, b.set = n, true
}
