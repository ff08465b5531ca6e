package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edgefront/edgefront/accesslog"
	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/cluster"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/control"
	"github.com/edgefront/edgefront/demo"
	edgecode "github.com/edgefront/edgefront/edge"
	"github.com/edgefront/edgefront/edgetls"
	"github.com/edgefront/edgefront/front"
	"github.com/edgefront/edgefront/geo"
	"github.com/edgefront/edgefront/h1"
	"github.com/edgefront/edgefront/h2"
	"github.com/edgefront/edgefront/proxy"
)

const serveHelp = `Usage: edgefront serve [flags]

Runs the edge. The configuration comes from, in this order:
  --config FILE   edgefront settings with distributions, a DistributionConfig
                  as 'aws cloudfront get-distribution-config' prints it, a
                  CloudFormation/CDK template, a Terraform directory or .tf
                  file, or 'terraform show -json' output (--parameter
                  NAME=VALUE gives what only a stack knows, or a variable)
  --origin URL    quick mode: one distribution in front of one HTTP origin
                  whose own Cache-Control decides what is cached: the cache
                  policy edgefront-QuickMode-HonorOrigin (TTLs 0/0/1 year; all
                  query strings, all cookies and Authorization in the key) and
                  the managed AllViewer origin request policy; --cache-policy,
                  --origin-request-policy and --response-headers-policy choose
                  managed policies instead
  (neither)       the embedded demo: an in-process S3 bucket and an API origin

Flags override the file's settings. SIGHUP, or a change of any file the
configuration was read from, reloads it; a bad file is refused with its errors logged and the running
configuration keeps serving. The CloudFront API (UpdateDistribution,
CreateInvalidation …) answers on the admin listener. Off loopback, the admin
listener needs --control-credentials (or --admin-insecure to run it open).

On the https listener a viewer's TLS handshake must finish within 10 s, and
HTTP/2 connections are bounded: one that sends nothing for 10 s
is PINGed and closed if the PING is not answered within 10 s; an
unfinished header block lasts at most 10 s; a request body must
arrive within 60 s of its headers; a response the viewer takes no data of
for 30 s (its flow-control window kept shut) closes the connection; 100
concurrent streams; and a connection on which more than 100 requests were
cancelled by the viewer (RST_STREAM) before their response, and more
cancelled than completed, is closed (rapid reset); floods of frames
that do no work (SETTINGS, PING, empty DATA, …) close it too. HTTP/3
connections (--http3) have the same stream limit and rapid-reset rule.

Flags:
`

// gcBase is the garbage the GC tuning lets the process make between
// collections beyond an eighth of what the cache holds on the heap.
const gcBase = 32 << 20

// serveFlags are the serve command's flags.
type serveFlags struct {
	config, origin          string
	quick                   config.QuickMode // quick mode's policies (--origin)
	parameters              parameterFlag    // a template's parameter values and imports (--parameter)
	http, https, admin      string
	cacheSize               string
	cacheDisk               string          // PATH:SIZE of the disk tier
	set                     map[string]bool // flags given on the command line
	logFormat, logLevelName string
	accessLog, accessFormat string
	accessMaxSize           string
	accessKeep              int
	http3                   bool
	fastHTTP1, fastHTTP2    bool
	debugHeaders            bool
	geoDatabase, geoCountry string
	geoTrustHeader          bool
	controlCredentials      string
	adminInsecure           bool // serve the admin listener off loopback without credentials
	pprof                   bool // serve /debug/pprof/ on the admin listener
	gcTuning                bool
	viewer                  viewerLimits // HTTP/2 viewer connections' limits (defaults when zero)
}

// serveFlagSet defines the serve command's flags on f.
func serveFlagSet(f *serveFlags, stdout, stderr io.Writer) *flagSet {
	fs := newFlagSet("serve", serveHelp, stdout, stderr)
	fs.StringVar(&f.config, "config", "", "configuration `FILE` (JSON or YAML)")
	fs.StringVar(&f.origin, "origin", "", "quick mode: cache in front of the origin at `URL` (http:// or https://)")
	fs.Var(&f.parameters, "parameter", "a CloudFormation template's parameter (or pseudo parameter such as AWS::Region, or Fn::ImportValue export) `NAME=VALUE`; repeat for more")
	fs.StringVar(&f.quick.CachePolicy, "cache-policy", "", "quick mode: the managed cache policy `NAME` or ID (e.g. CachingOptimized; default "+config.QuickCachePolicyName+")")
	fs.StringVar(&f.quick.OriginRequestPolicy, "origin-request-policy", "", "quick mode: the managed origin request policy `NAME` or ID (default AllViewer)")
	fs.StringVar(&f.quick.ResponseHeadersPolicy, "response-headers-policy", "", "quick mode: the managed response headers policy `NAME` or ID (default none)")
	f.http, f.https, f.admin = config.DefaultHTTPAddr, config.DefaultHTTPSAddr, config.DefaultAdminAddr
	fs.Var((*addrValue)(&f.http), "http", "plain-HTTP viewer listener `ADDR` (\"\" to disable)")
	fs.Var((*addrValue)(&f.https), "https", "HTTPS viewer listener `ADDR`, HTTP/1.1 and HTTP/2 (\"\" to disable)")
	fs.Var((*addrValue)(&f.admin), "admin", "admin listener `ADDR`: the CloudFront API (/2020-05-31/), /metrics, /healthz (\"\" to disable)")
	fs.StringVar(&f.cacheSize, "cache-size", "", "cache memory `SIZE`, e.g. 512MiB or 2GiB: what the cached objects may cost (bodies, headers, bookkeeping); their bodies live outside the Go heap in an arena of SIZE + 1/8 + 4 MiB (default from config, else 512MiB)")
	fs.StringVar(&f.cacheDisk, "cache-disk", "", "persistent disk cache `PATH:SIZE`, e.g. /var/cache/edgefront:50GiB: objects survive restarts, and objects evicted from memory or larger than its largest are served from disk (default from config cache.disk, else none)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log `FORMAT`: text or json")
	fs.StringVar(&f.logLevelName, "log-level", "info", "log `LEVEL`: debug, info, warn, error")
	fs.StringVar(&f.accessLog, "access-log", "", "write CloudFront standard access logs to `FILE` (\"-\" for stdout; rotated by size)")
	fs.StringVar(&f.accessFormat, "access-log-format", "standard", "access log `FORMAT`: standard (CloudFront's tab-separated fields) or json (real-time log field names)")
	fs.StringVar(&f.accessMaxSize, "access-log-max-size", "100MiB", "rotate the access log file at `SIZE`")
	fs.IntVar(&f.accessKeep, "access-log-keep", 10, "rotated access log files to keep (`N`)")
	fs.StringVar(&f.controlCredentials, "control-credentials", "", "verify the CloudFront API's SigV4 signatures with these `KEYID:SECRET[,KEYID:SECRET…]` (default: any signed request is accepted, so --admin must then be a loopback address unless --admin-insecure); --pprof takes the same pairs as HTTP Basic user and password")
	fs.BoolVar(&f.adminInsecure, "admin-insecure", false, "allow --admin on an address other machines can reach without --control-credentials: anyone reaching it can change distributions (a warning is logged)")
	fs.BoolVar(&f.pprof, "pprof", false, "serve Go's profiles at /debug/pprof/ on the admin listener, behind HTTP Basic authentication with a --control-credentials pair when set (go tool pprof http://KEYID:SECRET@ADMIN/debug/pprof/profile); the admin listener is plain HTTP, so reach it over loopback or a tunnel")
	fs.BoolVar(&f.debugHeaders, "debug-headers", false, "explain every response: Cache-Status (RFC 9211: hit or why not, TTL left, stored, the cache key) and X-Edgefront-Explain (distribution, behaviour, cache policy, the TTL rule that applied, origin and endpoint, hooks); for local use — it shows cache keys to anyone who can connect")
	fs.BoolVar(&f.fastHTTP1, "fast-http1", true, "answer HTTP/1.1 requests without a body, plain-text and over TLS, with edgefront's own HTTP/1.1 server (false: net/http serves every HTTP/1.x request)")
	fs.BoolVar(&f.fastHTTP2, "fast-http2", true, "serve HTTP/2 connections with edgefront's own HTTP/2 server, which answers hits from each connection's reader goroutine (false: net/http's)")
	fs.BoolVar(&f.gcTuning, "gc-tuning", true, "revise GOGC ten times a second so the heap grows by 32 MiB + 1/8 of what the cache holds on the heap (its bodies are not there) between collections, instead of doubling (false: the Go runtime's own GOGC; GOGC=off, a GOGC ceiling and GOMEMLIMIT from the environment are respected)")
	fs.BoolVar(&f.http3, "http3", true, "also serve HTTP/3 (QUIC, UDP) on the https port, advertised with Alt-Svc to distributions whose HttpVersion enables it")
	fs.StringVar(&f.geoDatabase, "geo-database", "", "MaxMind-format country database `FILE` (.mmdb) for geo restriction and CloudFront-Viewer-Country")
	fs.StringVar(&f.geoCountry, "geo-country", "", "country `CODE` of viewers no other source locates (local testing)")
	fs.BoolVar(&f.geoTrustHeader, "geo-trust-header", false, "take the viewer's country from its CloudFront-Viewer-Country header (local testing only: any client can send it)")
	return fs
}

// parseServeFlags reads the serve command line; help goes to stdout, the
// logger writes to stderr.
func parseServeFlags(args []string, stdout, stderr io.Writer) (serveFlags, *slog.Logger, error) {
	var f serveFlags
	fs := serveFlagSet(&f, stdout, stderr)
	if err := parseFlags(fs, args); err != nil {
		return f, nil, err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if f.config != "" && f.origin != "" {
		fmt.Fprintln(stderr, "edgefront serve: give --config or --origin, not both")
		return f, nil, errUsage
	}
	for _, name := range []string{"cache-policy", "origin-request-policy", "response-headers-policy"} {
		if f.set[name] && f.origin == "" {
			fmt.Fprintf(stderr, "edgefront serve: --%s is for quick mode (--origin); a --config file names its policies in each behavior\n", name)
			return f, nil, errUsage
		}
	}
	if f.accessFormat != "standard" && f.accessFormat != "json" {
		fmt.Fprintf(stderr, "edgefront serve: --access-log-format %q: want standard or json\n", f.accessFormat)
		return f, nil, errUsage
	}
	log, err := newLogger(stderr, f.logFormat, f.logLevelName)
	if err != nil {
		return f, nil, err
	}
	return f, log, nil
}

func serve(args []string, stdout, stderr io.Writer) error {
	f, log, err := parseServeFlags(args, stdout, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runServe(ctx, f, log, stdout, stderr, 2*time.Second)
}

// runServe runs the edge until ctx ends, reloading on SIGHUP and when the
// config file, or a file it names, changes (checked every poll).
func runServe(ctx context.Context, f serveFlags, log *slog.Logger, stdout, stderr io.Writer, poll time.Duration) error {
	e, err := startEdgeWriting(ctx, f, log, stdout)
	if err != nil {
		var errs config.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(stderr, e)
			}
			return errReported
		}
		return err
	}
	defer e.close()
	// With --access-log - the access log owns stdout, so that it stays
	// parseable: the welcome text goes to stderr with edgefront's own log.
	welcome := stdout
	if f.accessLog == "-" {
		welcome = stderr
	}
	e.printWelcome(welcome)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// The config file is also watched: a change reloads it like SIGHUP.
	watch := time.NewTicker(poll)
	defer watch.Stop()
	stamp := e.stamp()
	for {
		select {
		case <-ctx.Done():
			log.Info("shutting down: finishing requests under way")
			return e.shutdown(10 * time.Second)
		case err := <-e.failed:
			return err
		case <-hup:
			e.reload()
			stamp = e.stamp()
		case <-watch.C:
			if f.config == "" {
				continue
			}
			if now := e.stamp(); now != stamp {
				log.Info("configuration file changed", "file", f.config)
				e.reload()
				stamp = e.stamp()
			}
		}
	}
}

// stamp identifies the version of every file the running configuration
// was read from (the --config file, the configFiles and templates it
// names), so a change of any of them reloads.
func (e *edge) stamp() string {
	files := e.proxy.Config().Files
	if len(files) == 0 {
		files = []string{e.flags.config}
	}
	var b strings.Builder
	for _, f := range files {
		b.WriteString(f + "=" + fileStamp(f) + ";")
	}
	return b.String()
}

// fileStamp identifies a version of a file by its modification time and
// size ("" when it cannot be read).
func fileStamp(path string) string {
	if path == "" {
		return ""
	}
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprint(fi.ModTime().UnixNano(), fi.Size())
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// edge is a running edgefront: configuration, cache, proxy and listeners.
type edge struct {
	flags   serveFlags
	log     *slog.Logger
	stdout  io.Writer // where --access-log - writes
	demo    *demo.Demo
	store   *cache.Store
	access  *accesslog.Logger
	geo     *geo.Resolver
	certs   *edgetls.Provider
	stop3   func() error   // stops the HTTP/3 listener
	cfg     *config.Config // the configuration build loaded
	admin   http.Handler   // the admin listener's handler
	cleanup []func()       // what close undoes, in the order it was built
	proxy   *proxy.Server
	// functions runs the CloudFront Functions, lambda Lambda@Edge.
	functions *functionHooks
	api       *control.API  // the CloudFront API: its overlay is applied over every reload
	cluster   *cluster.Node // the cluster this node is part of (nil: none; cluster.go)
	lambda    *lambdaHooks
	servers   []server
	fastTLS   *h1.Server // h1 on the https listener (nil when --fast-http1=false)
	// plainH1 is the plain-HTTP listener's h1 server, for its sendfile
	// count (nil before listen, or with --fast-http1=false).
	plainH1 atomic.Pointer[h1.Server]
	addrs   map[string]string // listener name → bound address
	failed  chan error
}

// server is a listener's server: net/http's, or h1's in front of it.
type server interface {
	Shutdown(context.Context) error
	Close() error
}

// loadConfig reads the configuration the flags choose and applies the flag
// overrides.
func (e *edge) loadConfig(ctx context.Context) (*config.Config, error) {
	f := e.flags
	var cfg *config.Config
	var err error
	switch {
	case f.config != "":
		cfg, err = config.LoadWith(f.config, f.parameters.inputs())
	case f.origin != "":
		q := f.quick
		q.Origin = f.origin
		cfg, err = q.Config()
	default:
		if e.demo == nil {
			if e.demo, err = demo.Start(ctx); err != nil {
				return nil, fmt.Errorf("starting the embedded demo: %w", err)
			}
		}
		cfg, err = e.demo.Config(config.Listen{HTTP: f.http, HTTPS: f.https, Admin: f.admin})
	}
	if err != nil {
		return nil, err
	}
	// Once per load: what the configuration asks for that edgefront does not do.
	for _, w := range cfg.Warnings() {
		e.log.Warn("setting accepted but not emulated", "file", w.File, "field", w.Field, "reason", w.Reason)
	}
	c := *cfg
	if f.set["http"] || f.config == "" {
		c.Listen.HTTP = f.http
	}
	if f.set["https"] || f.config == "" {
		c.Listen.HTTPS = f.https
	}
	if f.set["admin"] || f.config == "" {
		c.Listen.Admin = f.admin
	}
	for _, w := range listenerWarnings(&c) {
		e.log.Warn("configuration cannot work as configured", "problem", w)
	}
	if f.cacheSize != "" {
		n, err := config.ParseSize(f.cacheSize)
		if err != nil {
			return nil, fmt.Errorf("--cache-size: %w", err)
		}
		c.Cache.Size = n
		if c.Cache.MaxObjectSize > n {
			c.Cache.MaxObjectSize = n
		}
	}
	if f.cacheDisk != "" {
		d, err := config.ParseDiskFlag(f.cacheDisk)
		if err != nil {
			return nil, fmt.Errorf("--cache-disk: %w", err)
		}
		c.Cache.Disk = d
	}
	return &c, nil
}

// listenerWarnings describes what in cfg cannot work with its listeners:
// a behaviour that sends viewers to https (redirect-to-https) or serves
// only https (https-only) while the https listener is disabled.
func listenerWarnings(cfg *config.Config) []string {
	if cfg.Listen.HTTPS != "" {
		return nil
	}
	var out []string
	for _, d := range cfg.Distributions {
		for _, b := range append(slices.Clone(d.Behaviors), d.Default) {
			if b == nil {
				continue
			}
			var what string
			switch b.ViewerProtocolPolicy {
			case config.RedirectToHTTPS:
				what = "redirects http viewers to https"
			case config.HTTPSOnly:
				what = "refuses http viewers (403)"
			default:
				continue
			}
			out = append(out, fmt.Sprintf("distribution %s: the behavior for %q is %s and %s, but the https listener is disabled (--https \"\" or listen.https): nothing answers https",
				d.ID, b.PathPattern, b.ViewerProtocolPolicy, what))
		}
	}
	return out
}

// startEdge builds an edge for the flags and starts its listeners; on any
// error what was built is closed again.
func startEdge(ctx context.Context, f serveFlags, log *slog.Logger) (*edge, error) {
	return startEdgeWriting(ctx, f, log, os.Stdout)
}

// startEdgeWriting is startEdge with the standard output --access-log -
// writes to.
func startEdgeWriting(ctx context.Context, f serveFlags, log *slog.Logger, stdout io.Writer) (*edge, error) {
	e := &edge{flags: f, log: log, stdout: stdout, addrs: map[string]string{}, failed: make(chan error, 3)}
	if err := e.build(ctx); err != nil {
		e.close()
		return nil, err
	}
	if err := e.listen(); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// build makes everything but the listeners — configuration, cache, proxy,
// certificates, the admin handler — pushing each part's cleanup on the
// edge's stack as it goes.
func (e *edge) build(ctx context.Context) error {
	f, log := e.flags, e.log
	cfg, err := e.loadConfig(ctx)
	if e.demo != nil {
		e.onClose(func() { _ = e.demo.Close() })
	}
	if err != nil {
		return err
	}
	creds, err := parseCredentials(f.controlCredentials)
	if err != nil {
		return err
	}
	if err := checkAdminExposure(cfg.Listen.Admin, adminSource(f), creds, f.adminInsecure, log); err != nil {
		return err
	}
	co := cache.Options{MaxBytes: cfg.Cache.Size, MaxObjectSize: cfg.Cache.MaxObjectSize, Logger: log}
	if d := cfg.Cache.Disk; d.Path != "" {
		co.Disk = &cache.DiskOptions{Path: d.Path, MaxBytes: d.Size, MaxObjectSize: d.MaxObjectSize}
	}
	e.store, err = cache.New(co)
	if err != nil {
		return err
	}
	e.onClose(e.store.Close)
	if f.gcTuning {
		tctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			tuneGC(tctx, e.store.HeapBytes, gcBase)
		}()
		e.onClose(func() { cancel(); <-done }) // puts back the GOGC it started from
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerCacheMetrics(reg, e.store)
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: "edgefront", Name: "h1_sendfile_total",
		Help: "Response bodies (or ranges) read from the disk cache's files and sent with sendfile(2) on plain HTTP/1.1 connections.",
	}, func() float64 {
		if s := e.plainH1.Load(); s != nil {
			return float64(s.SendfileWrites())
		}
		return 0
	}))
	if e.access, err = openAccessLog(f, e.stdout); err != nil {
		return err
	}
	if e.access != nil {
		e.onClose(func() { _ = e.access.Close() })
	}
	if e.geo, err = geo.New(geo.Options{Database: f.geoDatabase, TrustHeader: f.geoTrustHeader, Country: f.geoCountry}); err != nil {
		return fmt.Errorf("--geo-database: %w", err)
	}
	e.onClose(func() { _ = e.geo.Close() })
	if err := e.geo.Check(cfg.Distributions); err != nil {
		log.Warn("geo restriction cannot locate viewers; restricted distributions serve everyone, as CloudFront does for unknown locations", "err", err)
	}
	if e.access != nil {
		access := e.access
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "access_log_dropped_total",
			Help: "Access log lines dropped because the log's queue was full (the writer could not keep up).",
		}, func() float64 { return float64(access.Dropped()) }))
	}
	// CloudFront Functions: the hooks are installed when the configuration
	// has functions (a hook costs every request an event otherwise); a
	// reload installs or drops them (functionHooks.forConfig).
	e.functions = &functionHooks{log: log, metrics: newFunctionMetrics(reg)}
	// Lambda@Edge: warm workers start in apply (lambda.go); hooks.go
	// makes one set of hooks of both kinds of edge code.
	e.lambda = &lambdaHooks{log: log, metrics: newLambdaMetrics(reg)}
	e.onClose(e.lambda.close)
	e.proxy, err = proxy.New(proxy.Options{Store: e.store, Registry: reg, Logger: log, AccessLog: e.access, Geo: e.geo,
		DebugHeaders: f.debugHeaders})
	if err != nil {
		return err
	}
	e.onClose(e.proxy.Close)
	if err := e.apply(ctx, cfg); err != nil {
		return err
	}
	if len(cfg.Functions) > 0 {
		log.Info("CloudFront Functions loaded", "functions", len(cfg.Functions),
			"keyValueStores", len(cfg.KeyValueStores), "budget", edgecode.DefaultBudget)
	}

	var names []string
	for _, d := range cfg.Distributions {
		names = append(names, d.DomainName)
		names = append(names, d.Aliases...)
	}
	certs, err := edgetls.New(cfg.TLS, names, edgetls.WithDistributions(tlsSites(cfg)...))
	if err != nil {
		return err
	}
	e.certs = certs
	admin := http.NewServeMux()
	admin.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	// The CloudFront API subset the AWS CLI and SDKs talk to:
	// aws cloudfront create-invalidation --endpoint-url http://ADMIN …
	// Every change it makes (UpdateDistribution, functions, key value
	// stores) goes through apply, as a reload does (API.Reload).
	// With a cluster block, invalidations are shared with the other nodes (cluster.go).
	if e.api, err = e.newControlAPI(ctx, cfg, reg,
		&control.ProxyBackend{Proxy: e.proxy, Store: e.store, Apply: e.apply},
		control.Options{Logger: log, Credentials: creds},
	); err != nil {
		return err
	}
	admin.Handle(control.Version, e.api)
	// The cloudfront-keyvaluestore data plane (aws cloudfront-keyvaluestore put-key …).
	admin.Handle(control.KeyValueStorePrefix, e.api)
	if f.pprof {
		// Profiles for performance work: go tool pprof http://ADMIN/debug/pprof/profile
		handlePprof(admin, creds)
	}
	e.handleClusterStatus(admin)
	admin.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	e.cfg, e.admin = cfg, admin
	return nil
}

// listen opens the listeners of the configuration build loaded and serves
// on them; each server is closed by the edge's cleanup stack.
func (e *edge) listen() error {
	f, log, cfg, certs := e.flags, e.log, e.cfg, e.certs
	var viewer http.Handler = e.proxy
	listeners := []struct {
		name, addr string
		handler    *http.Handler
		tls        bool
	}{
		{"http", cfg.Listen.HTTP, nil, false},
		{"https", cfg.Listen.HTTPS, &viewer, true},
		{"admin", cfg.Listen.Admin, nil, false},
	}
	plainHTTP, adminHandler := certs.HTTPHandler(e.proxy), e.admin
	listeners[0].handler, listeners[2].handler = &plainHTTP, &adminHandler
	for _, l := range listeners {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			return fmt.Errorf("%s listener: %w", l.name, err)
		}
		e.addrs[l.name] = ln.Addr().String()
		if l.tls && f.http3 {
			// HTTP/3 on the same port number over UDP, advertised by
			// Alt-Svc on https responses of distributions that enable it.
			stop, err := startHTTP3(ln.Addr().String(), certs.QUICConfig(), e.proxy, newHTTP3Guard(f.viewer, log))
			if err != nil {
				log.Warn("HTTP/3 is off", "err", err)
			} else {
				e.stop3 = stop
				e.onClose(func() {
					if e.stop3 != nil { // not already stopped by shutdown
						_ = e.stop3()
						e.stop3 = nil
					}
				})
				e.addrs["http3"] = ln.Addr().String()
				_, port, _ := net.SplitHostPort(ln.Addr().String())
				viewer = altSvc(e.proxy, port, certs.HTTP3)
			}
		}
		srv := &http.Server{
			Handler: *l.handler,
			// OPTIONS * goes to the proxy (CloudFront answers it), not Go.
			DisableGeneralOptionsHandler: true,
			ReadHeaderTimeout:            10 * time.Second, // slow clients
			IdleTimeout:                  2 * time.Minute,
			MaxHeaderBytes:               64 << 10,
			ErrorLog:                     slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		}
		var serveFn func() error
		switch {
		case l.tls:
			serveFn = e.tlsServer(ln, srv)
		case l.name == "http" && f.fastHTTP1:
			// Plain HTTP/1.1 requests without a body are answered by h1;
			// any other request hands its connection to srv.
			fast := &h1.Server{Handler: srv.Handler, General: srv, ReadHeaderTimeout: srv.ReadHeaderTimeout,
				IdleTimeout: srv.IdleTimeout, ErrorLog: srv.ErrorLog, TooLarge: e.proxy.TooLarge}
			e.servers = append(e.servers, fast)
			e.plainH1.Store(fast)
			e.onClose(func() { _ = fast.Close() })
			serveFn = func() error { return fast.Serve(ln) }
		default:
			e.servers = append(e.servers, srv)
			e.onClose(func() { _ = srv.Close() })
			serveFn = func() error { return srv.Serve(ln) }
		}
		go func(name string) {
			if err := serveFn(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				e.failed <- fmt.Errorf("%s listener: %w", name, err)
			}
		}(l.name)
	}
	return nil
}

// tlsServer sets up the https listener's servers on srv, net/http's
// server for it, and returns what serves ln. HTTP/2 connections are
// bounded by viewerLimits (viewerGuard): silent viewers are PINGed then
// closed, slow bodies and stalled responses close the connection, and so
// do rapid resets. With --fast-http1 (or an own HTTP/2 server,
// --fast-http2) edgefront's front end accepts: it handshakes each
// connection (within the header timeout, as net/http would) and gives
// HTTP/1.1 connections to h1 — which hands those it does not answer to
// srv, as on the plain listener — and h2 connections to the HTTP/2 server.
// Otherwise net/http's ServeTLS serves everything, as it always did.
func (e *edge) tlsServer(ln net.Listener, srv *http.Server) func() error {
	f, log, certs := e.flags, e.log, e.certs
	srv.TLSConfig = certs.Config()
	viewer := srv.Handler
	guard := newViewerGuard(viewer, f.viewer, log)
	srv.Handler, srv.HTTP2 = guard, guard.limits.http2Config()
	var fastH2 front.ConnServer
	if f.fastHTTP2 {
		fastH2 = ownHTTP2(viewer, guard.limits, srv)
	}
	if !f.fastHTTP1 && fastH2 == nil {
		srv.ConnContext = guard.connContext
		e.servers = append(e.servers, srv)
		e.onClose(func() { _ = srv.Close() })
		return func() error { return srv.ServeTLS(ln, "", "") }
	}
	general := &front.NetHTTP{Server: srv}
	// net/http serves connections given to it by general and by h1; each
	// keeps the context the front end made for it (its viewerConn and
	// ClientHello fingerprints), and r.TLS (guard.ServeHTTP restores it on
	// connections h1 handed over).
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if parent, _, ok := h1.HandedOver(c); ok && parent != nil {
			return withValuesOf(ctx, parent)
		}
		if parent, ok := general.Context(c); ok {
			return withValuesOf(ctx, parent)
		}
		return guard.connContext(ctx, c)
	}
	fe := &front.Server{TLSConfig: srv.TLSConfig, HandshakeTimeout: srv.ReadHeaderTimeout,
		ConnContext: guard.connContext, HTTP1: general, HTTP2: general, ErrorLog: srv.ErrorLog}
	if f.fastHTTP1 {
		fast := &h1.Server{Handler: guard, General: srv, ReadHeaderTimeout: srv.ReadHeaderTimeout,
			IdleTimeout: srv.IdleTimeout, ErrorLog: srv.ErrorLog, TooLarge: e.proxy.TooLarge}
		fe.HTTP1 = fast
		e.fastTLS = fast
	}
	if fastH2 != nil {
		fe.HTTP2 = fastH2
	}
	e.servers = append(e.servers, fe)
	e.onClose(func() { _ = fe.Close() })
	return func() error { return fe.Serve(ln) }
}

// ownHTTP2 is edgefront's own HTTP/2 server (package h2) for the https
// listener: it serves handler (which answers hits from the connection's
// reader goroutine when it is an h2.FastHandler) within the viewer limits l
// — the defences net/http's server gets from viewerGuard are h2's own —
// and srv's header and idle limits.
func ownHTTP2(handler http.Handler, l viewerLimits, srv *http.Server) front.ConnServer {
	return h2Conns{&h2.Server{
		Handler:              handler,
		MaxConcurrentStreams: uint32(l.MaxStreams),
		MaxHeaderBytes:       srv.MaxHeaderBytes,
		// A header block left unfinished lasts no longer than a silent
		// viewer's PING and its answer would (viewerLimits).
		PrefaceTimeout:    min(srv.ReadHeaderTimeout, l.Silent+l.Ping),
		IdleTimeout:       srv.IdleTimeout,
		PingAfter:         l.Silent,
		PingTimeout:       l.Ping,
		BodyTimeout:       l.Body,
		WriteStallTimeout: l.WriteStall,
		MaxResets:         l.Resets,
		ErrorLog:          srv.ErrorLog,
	}}
}

// h2Conns is an h2.Server as the front end's ConnServer: requests carry
// the values of the connection's context (viewer TLS fingerprints).
type h2Conns struct{ *h2.Server }

// ServeConn implements front.ConnServer.
func (s h2Conns) ServeConn(ctx context.Context, c net.Conn) { s.ServeConnContext(ctx, c) }

// withValuesOf is ctx (net/http's connection context: its server, its
// cancellation) with the values of parent (the front end's connection
// context) first.
func withValuesOf(ctx, parent context.Context) context.Context {
	return valuesContext{Context: ctx, values: parent}
}

// valuesContext is a context whose values come first from values.
type valuesContext struct {
	context.Context
	values context.Context
}

// Value implements context.Context.
func (c valuesContext) Value(key any) any {
	if v := c.values.Value(key); v != nil {
		return v
	}
	return c.Context.Value(key)
}

// openAccessLog opens the access log the flags ask for (nil for none).
func openAccessLog(f serveFlags, stdout io.Writer) (*accesslog.Logger, error) {
	if f.accessLog == "" {
		return nil, nil
	}
	var format accesslog.Format
	switch f.accessFormat {
	case "standard":
		format = accesslog.Standard
	case "json":
		format = accesslog.JSON
	default:
		return nil, fmt.Errorf("--access-log-format %q: want standard or json", f.accessFormat)
	}
	var w io.Writer = stdout
	if f.accessLog != "-" {
		size, err := config.ParseSize(f.accessMaxSize)
		if err != nil {
			return nil, fmt.Errorf("--access-log-max-size: %w", err)
		}
		file, err := accesslog.OpenFile(f.accessLog, size, f.accessKeep)
		if err != nil {
			return nil, fmt.Errorf("--access-log: %w", err)
		}
		w = file
	}
	return accesslog.New(w, accesslog.Options{Format: format}), nil
}

// parseCredentials reads --control-credentials.
func parseCredentials(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		id, secret, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok || id == "" || secret == "" {
			return nil, fmt.Errorf("--control-credentials: %q is not KEYID:SECRET", pair)
		}
		out[id] = secret
	}
	return out, nil
}

// tlsSites describes each distribution's TLS security policy and HTTP
// versions for the https listener.
func tlsSites(cfg *config.Config) []edgetls.Distribution {
	var out []edgetls.Distribution
	for _, d := range cfg.Distributions {
		out = append(out, edgetls.DistributionOf(d))
	}
	return out
}

// evictionsHelp describes edgefront_cache_evictions_total.
const evictionsHelp = "Objects that left the cache by reason: size (evicted to make room for others) or expired (kept until the end of their TTL plus the stale windows, then dropped)."

// registerCacheMetrics exports the cache's size on reg.
func registerCacheMetrics(reg prometheus.Registerer, store *cache.Store) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "edgefront", Name: "cache_items", Help: "Objects in the cache.",
		}, func() float64 { n, _ := store.Stats(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "edgefront", Name: "cache_bytes", Help: "Bytes the cached objects cost (bodies and headers).",
		}, func() float64 { _, b := store.Stats(); return float64(b) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "cache_evictions_total", Help: evictionsHelp,
			ConstLabels: prometheus.Labels{"reason": "size"},
		}, func() float64 { return float64(store.Evictions()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "cache_evictions_total", Help: evictionsHelp,
			ConstLabels: prometheus.Labels{"reason": "expired"},
		}, func() float64 { return float64(store.Expirations()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "edgefront", Name: "invalidation_bans_active", Help: "Invalidations (bans) still able to match a cached object.",
		}, func() float64 { return float64(store.Bans()) }),
	)
	tiers := []struct {
		name  string
		stats func() cache.TierStats
	}{{"ram", store.RAMStats}, {"disk", store.DiskStats}}
	for _, t := range tiers {
		labels := prometheus.Labels{"tier": t.name}
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "edgefront", Name: "cache_tier_items", Help: "Objects in each tier of the cache (ram, disk).", ConstLabels: labels,
			}, func() float64 { return float64(t.stats().Items) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "edgefront", Name: "cache_tier_bytes", Help: "Bytes of each tier of the cache: what RAM's objects cost, the disk's file sizes.", ConstLabels: labels,
			}, func() float64 { return float64(t.stats().Bytes) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: "edgefront", Name: "cache_hits_total", Help: "Lookups answered by each tier of the cache (a disk hit is counted when its file is opened for a response).", ConstLabels: labels,
			}, func() float64 { return float64(t.stats().Hits) }),
		)
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "edgefront", Name: "cache_ram_arena_bytes",
			Help:        "The RAM tier's arena, where cached bodies are kept off the Go heap: its size, and the bytes of its blocks in use.",
			ConstLabels: prometheus.Labels{"state": "size"},
		}, func() float64 { return float64(store.ArenaStats().Size) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "edgefront", Name: "cache_ram_arena_bytes",
			Help:        "The RAM tier's arena, where cached bodies are kept off the Go heap: its size, and the bytes of its blocks in use.",
			ConstLabels: prometheus.Labels{"state": "used"},
		}, func() float64 { return float64(store.ArenaStats().Used) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "cache_ram_arena_full_total",
			Help: "Objects not kept in the RAM tier because its arena had no free block large enough.",
		}, func() float64 { return float64(store.ArenaStats().Failures) }),
	)
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: "edgefront", Name: "cache_disk_writes_dropped_total",
		Help: "Objects not written to the disk cache because its writer's queue was full (they stay in memory only).",
	}, func() float64 { return float64(store.DiskWritesDropped()) }))
	for _, op := range cache.DiskOps() {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "cache_disk_errors_total",
			Help:        "Disk cache errors by operation (open, write, read, verify, remove, scan, bans); the node serves from memory and the origin meanwhile.",
			ConstLabels: prometheus.Labels{"op": op},
		}, func() float64 { return float64(store.DiskErrors(op)) }))
	}
}

// reload re-reads the configuration file; a bad one is refused and logged,
// and the running configuration keeps serving.
func (e *edge) reload() {
	if e.access != nil {
		if err := e.access.Reopen(); err != nil {
			e.log.Error("reopening the access log", "err", err)
		}
	}
	if e.flags.config == "" {
		e.log.Info("SIGHUP: nothing to reload (no --config file)")
		return
	}
	// The API's overlay (functions, key value stores, distributions it
	// changed) is applied over what was read, and the result goes through
	// apply like every other change.
	cfg, err := e.loadConfig(context.Background())
	if err == nil {
		err = e.api.Reload(context.Background(), cfg)
	}
	if err != nil {
		e.log.Error("reload refused; the running configuration keeps serving", "file", e.flags.config, "err", err)
		return
	}
	if e.cfg != nil && cfg.Cache.Disk != e.cfg.Cache.Disk {
		// The store (and its files) is the process's: not rebuilt by a reload.
		e.log.Warn("cache.disk changed: the running disk cache keeps its settings until the next start", "file", e.flags.config,
			"running", e.cfg.Cache.Disk.Path, "configured", cfg.Cache.Disk.Path)
	}
	e.log.Info("configuration reloaded", "file", e.flags.config, "distributions", len(cfg.Distributions))
}

// apply makes cfg the configuration serving: the one path of every new
// configuration (start, reload, and each change the control API makes).
// The functions are compiled first, so requests of the new configuration
// find theirs and those still under the old one find theirs by ARN; the
// hooks are installed only when cfg has functions.
func (e *edge) apply(ctx context.Context, cfg *config.Config) error {
	rt, err := e.functions.compile(cfg)
	if err != nil {
		return err
	}
	eng, err := e.lambda.compile(ctx, cfg)
	if err != nil {
		return err
	}
	// The functions first: requests of the new configuration find
	// theirs, those still under the old one find theirs by ARN.
	prevRT := e.functions.cur.Swap(rt)
	e.proxy.SetHooks(e.hooksFor(cfg))
	if err := e.proxy.Load(cfg); err != nil {
		// Refused: the running configuration keeps its code.
		e.functions.cur.Store(prevRT)
		e.proxy.SetHooks(e.hooksFor(e.proxy.Config()))
		eng.Release()
		return err
	}
	e.lambda.install(eng)
	if e.certs != nil {
		return e.certs.SetDistributions(tlsSites(cfg))
	}
	return nil
}

// hooksFor is the edge code's hooks for cfg (nil: none).
func (e *edge) hooksFor(cfg *config.Config) proxy.Hooks {
	if cfg == nil {
		return nil
	}
	return combineHooks(e.functions.forConfig(cfg), e.lambda.forConfig(cfg))
}

// shutdown stops accepting requests and waits up to grace for those under way.
func (e *edge) shutdown(grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var errs []error
	if e.stop3 != nil {
		errs = append(errs, e.stop3())
		e.stop3 = nil
	}
	for _, s := range e.servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// onClose pushes f on the edge's cleanup stack.
func (e *edge) onClose(f func()) { e.cleanup = append(e.cleanup, f) }

// close runs the cleanup stack, the last part built first: servers, then
// the proxy, logs, GC tuning, the store and the demo. It may be called
// again; each cleanup runs once.
func (e *edge) close() {
	for len(e.cleanup) > 0 {
		f := e.cleanup[len(e.cleanup)-1]
		e.cleanup = e.cleanup[:len(e.cleanup)-1]
		f()
	}
}

// printWelcome tells the person who started edgefront where it is and what
// to try.
func (e *edge) printWelcome(w io.Writer) {
	cfg := e.proxy.Config()
	fmt.Fprintf(w, "edgefront %s\n", versionString())
	for _, d := range cfg.Distributions {
		fmt.Fprintf(w, "  distribution %s  %s", d.ID, d.DomainName)
		if len(d.Aliases) > 0 {
			fmt.Fprintf(w, "  aliases %s", strings.Join(d.Aliases, ", "))
		}
		fmt.Fprintln(w)
	}
	if e.flags.origin != "" && len(cfg.Distributions) == 1 {
		b := cfg.Distributions[0].Default
		orp, rhp := "none", "none"
		if b.OriginRequestPolicy != nil {
			orp = b.OriginRequestPolicy.Name
		}
		if b.ResponseHeadersPolicy != nil {
			rhp = b.ResponseHeadersPolicy.Name
		}
		fmt.Fprintf(w, "  cache policy %s, origin request policy %s, response headers policy %s\n", b.CachePolicy.Name, orp, rhp)
	}
	if a := e.addrs["http"]; a != "" {
		fmt.Fprintf(w, "  http   http://%s\n", a)
	}
	if a := e.addrs["https"]; a != "" {
		fmt.Fprintf(w, "  https  https://%s  (HTTP/1.1 and HTTP/2; self-signed unless configured: curl -k)\n", a)
	}
	if a := e.addrs["http3"]; a != "" {
		fmt.Fprintf(w, "  http3  https://%s  (UDP; advertised by Alt-Svc where a distribution's HttpVersion enables it)\n", a)
	}
	if a := e.addrs["admin"]; a != "" {
		fmt.Fprintf(w, "  admin  http://%s/metrics  http://%s/healthz\n", a, a)
	}
	if e.demo != nil {
		fmt.Fprintln(w, "\nThe embedded demo is running. Try (twice each, and watch X-Cache):")
		for _, u := range demo.URLs(config.Listen{HTTP: e.addrs["http"], HTTPS: e.addrs["https"]}) {
			fmt.Fprintf(w, "  curl -i %s\n", u)
		}
	}
	if e.flags.config != "" {
		fmt.Fprintln(w, "\nCtrl-C stops; SIGHUP, or a change of the file, reloads --config.")
	} else {
		fmt.Fprintln(w, "\nCtrl-C stops.")
	}
}

// addrValue is a listener address flag: host:port, or "" to disable the
// listener. A bad address is refused as the flag's value.
type addrValue string

// String is flag.Value's.
func (a *addrValue) String() string { return string(*a) }

// Set checks and sets the address.
func (a *addrValue) Set(s string) error {
	if s != "" {
		_, port, err := net.SplitHostPort(s)
		if err != nil {
			return errors.New("not a host:port address, such as 127.0.0.1:8080 or :8080")
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("port %q is not a number from 0 to 65535", port)
		}
	}
	*a = addrValue(s)
	return nil
}

// parameterFlag collects repeated --parameter NAME=VALUE flags.
type parameterFlag map[string]string

// String is flag.Value's; the flag has no default to print.
func (p *parameterFlag) String() string { return "" }

// Set adds one NAME=VALUE.
func (p *parameterFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("%q is not NAME=VALUE", s)
	}
	if *p == nil {
		*p = parameterFlag{}
	}
	(*p)[name] = value
	return nil
}

// inputs are the values a template's Ref and Fn::ImportValue read: each
// --parameter answers both a parameter and an export of that name.
func (p parameterFlag) inputs() config.TemplateInputs {
	return config.TemplateInputs{Parameters: p, Imports: p}
}
