package freeport

import (
	"net"
	"strconv"
	"testing"
)

// TestAddr: the address is on loopback, below the ephemeral range, and
// can be bound.
func TestAddr(t *testing.T) {
	for range 20 {
		addr, err := Addr()
		if err != nil {
			t.Fatal(err)
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := strconv.Atoi(port)
		if es := ephemeralStart(); host != "127.0.0.1" || es > lowest && (p < lowest || p >= es) {
			t.Fatalf("Addr() = %s; want 127.0.0.1 and a port in [%d, %d)", addr, lowest, es)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("binding %s: %v", addr, err)
		}
		ln.Close()
	}
}
