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
	"sync"
)

// lowest is the lowest port Addrs picks.
const lowest = 10000

// Addrs returns n distinct "127.0.0.1:port" addresses whose ports were
// free a moment ago, below the kernel's ephemeral range (Linux's
// ip_local_port_range; 32768 and up elsewhere). Pick every address a set
// of servers needs in one call, or from one Picker: each is only checked
// by binding it and letting it go, so two separate calls could hand out
// the same port before either server binds it. When the range starts too
// low to leave room below it, the kernel picks the ports.
func Addrs(n int) ([]string, error) { return new(Picker).Addrs(n) }

// Picker hands out addresses as Addrs does, and never one it handed out
// before: servers set up one after another, each picking its own ports
// before any of them starts (the bench's targets), cannot then be given
// the same one. Its zero value is ready; it is safe for concurrent use.
type Picker struct {
	mu    sync.Mutex
	given map[string]bool
}

// Addrs is the package's Addrs, leaving out what p handed out before.
func (p *Picker) Addrs(n int) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.given == nil {
		p.given = make(map[string]bool, n)
	}
	addrs := make([]string, 0, n)
	high := ephemeralStart()
	for tries := 0; len(addrs) < n; tries++ {
		addr := "127.0.0.1:0"
		if high > lowest && tries < 200*n {
			addr = "127.0.0.1:" + strconv.Itoa(lowest+rand.IntN(high-lowest))
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if addr == "127.0.0.1:0" {
				return nil, fmt.Errorf("freeport: %w", err)
			}
			continue
		}
		addr = ln.Addr().String()
		ln.Close()
		if !p.given[addr] {
			p.given[addr] = true
			addrs = append(addrs, addr)
		}
	}
	return addrs, nil
}

// Ports is Addrs' ports alone.
func (p *Picker) Ports(n int) ([]string, error) {
	addrs, err := p.Addrs(n)
	if err != nil {
		return nil, err
	}
	ports := make([]string, n)
	for i, addr := range addrs {
		if _, ports[i], err = net.SplitHostPort(addr); err != nil {
			return nil, err
		}
	}
	return ports, nil
}

// TB is the part of testing.TB that For uses.
type TB interface {
	Helper()
	Fatal(args ...any)
}

// For is Addrs for a test: n distinct addresses, or tb fails.
func For(tb TB, n int) []string {
	tb.Helper()
	addrs, err := Addrs(n)
	if err != nil {
		tb.Fatal(err)
	}
	return addrs
}

// Ports is Addrs' ports alone.
func Ports(n int) ([]string, error) { return new(Picker).Ports(n) }

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
