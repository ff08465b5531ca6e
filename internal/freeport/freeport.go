// Package freeport picks loopback ports for servers that must be told
// their address before they bind it (tests and the bench start embedded
// NATS servers and edgefront processes on addresses given in advance).
//
// A port the kernel hands out for port 0 is from its ephemeral range, the
// same range it gives outgoing connections their own ports from; closed
// again and bound a moment later, it may have been taken in between by
// one of the thousands of connections a test or load run makes. So the
// ports are picked below that range, where nothing takes them unasked.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// lowest is the lowest port Addr picks.
const lowest = 10000

// Addr returns "127.0.0.1:port" with a port that was free a moment ago,
// below the kernel's ephemeral range (Linux's ip_local_port_range; 32768
// and up elsewhere). When the range starts too low to leave room below it,
// it falls back to a port the kernel picks.
func Addr() (string, error) {
	if high := ephemeralStart(); high > lowest {
		for range 200 {
			addr := "127.0.0.1:" + strconv.Itoa(lowest+rand.IntN(high-lowest))
			if ln, err := net.Listen("tcp", addr); err == nil {
				ln.Close()
				return addr, nil
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("freeport: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// TB is the part of testing.TB that For uses.
type TB interface {
	Helper()
	Fatal(args ...any)
}

// For is Addr for a test: it fails tb when there is no address.
func For(tb TB) string {
	tb.Helper()
	addr, err := Addr()
	if err != nil {
		tb.Fatal(err)
	}
	return addr
}

// Port is Addr's port alone.
func Port() (string, error) {
	addr, err := Addr()
	if err != nil {
		return "", err
	}
	_, port, err := net.SplitHostPort(addr)
	return port, err
}

// ephemeralStart is the first port of the kernel's ephemeral range.
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	fs := strings.Fields(string(b))
	if len(fs) != 2 {
		return 32768
	}
	v, err := strconv.Atoi(fs[0])
	if err != nil {
		return 32768
	}
	return v
}
