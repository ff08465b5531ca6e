package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/edgefront/edgefront/config"
)

// embedded is a NATS server run inside the node, JetStream enabled.
type embedded struct {
	srv *server.Server
	tmp string     // the temporary storage directory removed at close ("" when storeDir is set)
	log *serverLog // the server's logger
}

// startServer starts the embedded NATS server of c: a client listener at
// c.NATS.Listen and, with c.NATS.ClusterListen, a route listener that
// joins the other nodes' servers (c.NATS.Routes) in the NATS cluster
// c.Name, named after the node. It returns once the server listens, or
// with the reason it cannot (a port in use, storage it cannot write): the
// server reports those only to its logger (serverLog, which writes to log).
func startServer(c config.Cluster, log *slog.Logger) (*embedded, error) {
	n := c.NATS
	host, port, err := splitAddr(n.Listen)
	if err != nil {
		return nil, fmt.Errorf("cluster.nats.listen: %w", err)
	}
	e := &embedded{}
	dir := n.StoreDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "edgefront-jetstream-"); err != nil {
			return nil, fmt.Errorf("JetStream storage: %w", err)
		}
		e.tmp = dir
	}
	opts := &server.Options{
		ServerName: c.Node,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoLog:      true,
		NoSigs:     true,
	}
	if n.ClusterListen != "" {
		chost, cport, err := splitAddr(n.ClusterListen)
		if err != nil {
			e.close()
			return nil, fmt.Errorf("cluster.nats.clusterListen: %w", err)
		}
		opts.Cluster = server.ClusterOpts{Name: c.Name, Host: chost, Port: cport}
		if len(n.Routes) > 0 {
			opts.Routes = server.RoutesFromStr(strings.Join(n.Routes, ","))
		}
	}
	e.srv, err = server.NewServer(opts)
	if err != nil {
		e.close()
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	sl := &serverLog{log: log, fatal: make(chan string, 1)}
	e.log = sl
	e.srv.SetLoggerV2(sl, false, false, false)
	go e.srv.Start()
	for deadline := time.Now().Add(30 * time.Second); ; { // (a busy machine: -race, shared cores)
		if e.srv.ReadyForConnections(100 * time.Millisecond) {
			return e, nil
		}
		select {
		case msg := <-sl.fatal:
			e.close()
			return nil, fmt.Errorf("embedded NATS server: %s", msg)
		default:
		}
		if time.Now().After(deadline) {
			e.close()
			return nil, fmt.Errorf("embedded NATS server: not listening on %s after 30s", n.Listen)
		}
	}
}

// serverLog is the embedded server's logger (server.Logger). A fatal error,
// which leaves the server never ready, goes to log at Error and to fatal
// (startServer returns it). Errors go to log at Warn and warnings at Info:
// the server calls errors what a starting fleet goes through (a route to
// a node not up yet) and warnings its routine (snapshots). Notices, debug
// and trace lines are dropped, and so is everything once the server is
// closing (its shutdown reports each store it closes).
type serverLog struct {
	log     *slog.Logger
	fatal   chan string
	closing atomic.Bool
}

func (l *serverLog) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.logf(slog.LevelError, "%s", msg)
	select {
	case l.fatal <- msg:
	default:
	}
}

func (l *serverLog) Errorf(format string, v ...any) { l.logf(slog.LevelWarn, format, v...) }
func (l *serverLog) Warnf(format string, v ...any)  { l.logf(slog.LevelInfo, format, v...) }
func (l *serverLog) Noticef(string, ...any)         {}
func (l *serverLog) Debugf(string, ...any)          {}
func (l *serverLog) Tracef(string, ...any)          {}

func (l *serverLog) logf(level slog.Level, format string, v ...any) {
	if !l.closing.Load() && l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, "cluster: embedded NATS server: "+fmt.Sprintf(format, v...))
	}
}

// url is the embedded server's client URL.
func (e *embedded) url() string { return e.srv.ClientURL() }

// close stops the server and removes its temporary storage.
func (e *embedded) close() {
	if e.log != nil {
		e.log.closing.Store(true)
	}
	if e.srv != nil {
		e.srv.Shutdown()
		e.srv.WaitForShutdown()
	}
	if e.tmp != "" {
		_ = os.RemoveAll(e.tmp)
	}
}

// replicas is how many copies of the stream and buckets JetStream keeps:
// c.NATS.Replicas when set, else one per embedded server the routes name
// (this node's own among them or not), at most 3.
func replicas(c config.Cluster) int {
	n := c.NATS
	switch {
	case n.Replicas > 0:
		return n.Replicas
	case n.URL != "" || n.ClusterListen == "":
		return 1
	}
	count := len(n.Routes) + 1
	for _, r := range n.Routes {
		if strings.TrimPrefix(r, "nats://") == n.ClusterListen {
			count-- // this node's own route address
			break
		}
	}
	return min(count, 3)
}

func splitAddr(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return "", 0, fmt.Errorf("%q: port: %w", addr, err)
	}
	return host, p, nil
}
