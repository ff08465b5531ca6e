package cluster

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

// TestReplicas: the stream is kept on every embedded server the routes
// name, this node's own counted once, at most 3; an external server or a
// lone embedded one keeps one copy unless the settings say otherwise.
func TestReplicas(t *testing.T) {
	tests := []struct {
		name string
		nats config.NATS
		want int
	}{
		{"external", config.NATS{URL: "nats://n:4222"}, 1},
		{"external, replicas set", config.NATS{URL: "nats://n:4222", Replicas: 3}, 3},
		{"embedded alone", config.NATS{Listen: "127.0.0.1:4222"}, 1},
		{"routes name every node", config.NATS{Listen: "127.0.0.1:4222", ClusterListen: "10.0.0.1:6222",
			Routes: []string{"nats://10.0.0.1:6222", "nats://10.0.0.2:6222", "nats://10.0.0.3:6222"}}, 3},
		{"routes name the others", config.NATS{Listen: "127.0.0.1:4222", ClusterListen: "10.0.0.1:6222",
			Routes: []string{"nats://10.0.0.2:6222", "nats://10.0.0.3:6222"}}, 3},
		{"two nodes", config.NATS{Listen: "127.0.0.1:4222", ClusterListen: "10.0.0.1:6222",
			Routes: []string{"nats://10.0.0.1:6222", "nats://10.0.0.2:6222"}}, 2},
		{"five nodes", config.NATS{Listen: "127.0.0.1:4222", ClusterListen: "10.0.0.1:6222",
			Routes: []string{"nats://10.0.0.2:6222", "nats://10.0.0.3:6222", "nats://10.0.0.4:6222", "nats://10.0.0.5:6222"}}, 3},
		{"replicas set", config.NATS{Listen: "127.0.0.1:4222", ClusterListen: "10.0.0.1:6222",
			Routes: []string{"nats://10.0.0.2:6222"}, Replicas: 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := replicas(config.Cluster{Name: "pop1", Node: "a", NATS: tt.nats}); got != tt.want {
				t.Errorf("replicas %d, want %d", got, tt.want)
			}
		})
	}
}

// TestToken: a distribution ID is one subject token whatever it holds.
func TestToken(t *testing.T) {
	for in, want := range map[string]string{"E1ABC": "E1ABC", "a.b": "a_b", "a*b>c d": "a_b_c_d"} {
		if got := token(in); got != want {
			t.Errorf("token(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestServerPortInUse: an embedded server that cannot listen (its client or
// route port taken) fails Start with the reason, instead of waiting 30 s
// for a server that reported it only to a logger nobody read.
func TestServerPortInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tt := range []struct {
		name string
		nats config.NATS
	}{
		{"client port", config.NATS{Listen: taken.Addr().String()}},
		{"route port", config.NATS{Listen: "127.0.0.1:-1", ClusterListen: taken.Addr().String(),
			Routes: []string{"nats://" + taken.Addr().String(), "nats://127.0.0.1:1"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			n, err := Start(ctx, Options{Cluster: config.Cluster{Name: "pop1", Node: "a", NATS: tt.nats}, Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				n.Close()
				t.Fatal("Start succeeded with its port taken")
			}
			if !strings.Contains(err.Error(), "address already in use") {
				t.Errorf("Start: %v; want the listener's error", err)
			}
		})
	}
}
