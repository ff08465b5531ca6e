package freeport

import (
	"net"
	"strconv"
	"testing"
)

// TestAddrs: the addresses are distinct, on loopback, below the ephemeral
// range, and can be bound.
func TestAddrs(t *testing.T) {
	addrs, err := Addrs(500)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, addr := range addrs {
		if seen[addr] {
			t.Fatalf("%s handed out twice", addr)
		}
		seen[addr] = true
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := strconv.Atoi(port)
		if es := ephemeralStart(); host != "127.0.0.1" || es > lowest && (p < lowest || p >= es) {
			t.Fatalf("Addrs handed out %s; want 127.0.0.1 and a port in [%d, %d)", addr, lowest, es)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("binding %s: %v", addr, err)
		}
		ln.Close()
	}
}

// TestPickerNeverRepeats: one Picker's calls never hand out the same
// address twice, where separate calls to Addrs may.
func TestPickerNeverRepeats(t *testing.T) {
	var p Picker
	seen := map[string]bool{}
	for range 4 {
		addrs, err := p.Addrs(200)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			if seen[a] {
				t.Fatalf("%s handed out twice", a)
			}
			seen[a] = true
		}
	}
}
