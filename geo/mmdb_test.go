package geo

import (
	"bytes"
	"encoding/binary"
	"math"
	"net/netip"
	"sort"
	"testing"
)

// This file writes a tiny MaxMind DB (format 2.0) for tests: an IPv4 search
// tree with 24-bit records, a data section of Country records, and the
// metadata.

// mmdbEntry maps a network to a country record.
type mmdbEntry struct {
	prefix     netip.Prefix
	country    string // country.iso_code; "" for none
	registered string // registered_country.iso_code; "" for none
	// extra writes extraPairs more key/value pairs of the record (a City
	// or ASN database's fields).
	extra      func(m *mmdb)
	extraPairs int
}

// mmdb encodes MaxMind DB data-section values.
type mmdb struct{ bytes.Buffer }

func (m *mmdb) control(typ, size int) {
	if typ <= 7 {
		m.WriteByte(byte(typ<<5 | size))
		return
	}
	m.WriteByte(byte(size))
	m.WriteByte(byte(typ - 7))
}

func (m *mmdb) str(s string) {
	m.control(2, len(s)) // short strings only
	m.WriteString(s)
}

func (m *mmdb) uint(typ int, v uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	i := 0
	for i < 8 && b[i] == 0 {
		i++
	}
	m.control(typ, 8-i)
	m.Write(b[i:])
}

// double encodes a float64.
func (m *mmdb) double(v float64) {
	m.control(3, 8)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.Float64bits(v))
	m.Write(b[:])
}

// names writes a "names" map with one English name.
func (m *mmdb) names(en string) {
	m.str("names")
	m.mapStart(1)
	m.str("en")
	m.str(en)
}

// mapStart begins a map of n pairs; keys and values follow.
func (m *mmdb) mapStart(n int) { m.control(7, n) }

// writeMMDB returns the bytes of an IPv4 database holding entries.
func writeMMDB(t *testing.T, entries []mmdbEntry) []byte {
	t.Helper()
	// Data section: one record per entry.
	var data mmdb
	offsets := make([]int, len(entries))
	for i, e := range entries {
		offsets[i] = data.Len()
		n := 0
		if e.country != "" {
			n++
		}
		if e.registered != "" {
			n++
		}
		data.mapStart(n + e.extraPairs)
		if e.extra != nil {
			e.extra(&data)
		}
		for _, kv := range [][2]string{{"country", e.country}, {"registered_country", e.registered}} {
			if kv[1] == "" {
				continue
			}
			data.str(kv[0])
			data.mapStart(1)
			data.str("iso_code")
			data.str(kv[1])
		}
	}

	// Search tree: nodes as pairs of records; -1 is "no data", -2-i is
	// entry i's data, anything else a node index.
	nodes := [][2]int{{-1, -1}}
	sorted := append([]mmdbEntry(nil), entries...)
	sort.SliceStable(sorted, func(a, b int) bool { return sorted[a].prefix.Bits() < sorted[b].prefix.Bits() })
	index := map[netip.Prefix]int{}
	for i, e := range entries {
		index[e.prefix] = i
	}
	for _, e := range sorted {
		if !e.prefix.Addr().Is4() {
			t.Fatalf("writeMMDB: %v is not IPv4", e.prefix)
		}
		a := e.prefix.Addr().As4()
		ip := binary.BigEndian.Uint32(a[:])
		node := 0
		for bit := 0; bit < e.prefix.Bits(); bit++ {
			side := int(ip>>(31-bit)) & 1
			if bit == e.prefix.Bits()-1 {
				nodes[node][side] = -2 - index[e.prefix]
				break
			}
			next := nodes[node][side]
			if next < 0 { // grow a node, inheriting a shorter prefix's data
				nodes = append(nodes, [2]int{next, next})
				next = len(nodes) - 1
				nodes[node][side] = next
			}
			node = next
		}
	}
	count := len(nodes)
	var out bytes.Buffer
	for _, n := range nodes {
		for _, r := range n {
			v := r
			switch {
			case r == -1:
				v = count
			case r <= -2:
				v = count + 16 + offsets[-2-r]
			}
			out.Write([]byte{byte(v >> 16), byte(v >> 8), byte(v)})
		}
	}
	out.Write(make([]byte, 16)) // data section separator
	out.Write(data.Bytes())

	// Metadata.
	var meta mmdb
	meta.mapStart(9)
	meta.str("binary_format_major_version")
	meta.uint(5, 2)
	meta.str("binary_format_minor_version")
	meta.uint(5, 0)
	meta.str("build_epoch")
	meta.uint(9, 1764072000)
	meta.str("database_type")
	meta.str("edgefront-Test-Country")
	meta.str("description")
	meta.mapStart(1)
	meta.str("en")
	meta.str("edgefront test database")
	meta.str("ip_version")
	meta.uint(5, 4)
	meta.str("languages")
	meta.control(11, 1)
	meta.str("en")
	meta.str("node_count")
	meta.uint(6, uint64(count))
	meta.str("record_size")
	meta.uint(5, 24)
	out.WriteString("\xab\xcd\xefMaxMind.com")
	out.Write(meta.Bytes())
	return out.Bytes()
}
