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
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edgefront/edgefront/accesslog"
	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/demo"
	"github.com/edgefront/edgefront/proxy"
	edgetls "github.com/edgefront/edgefront/tls"
)

const serveHelp = `Usage: edgefront serve [flags]

Runs the edge. The configuration comes from, in this order:
  --config FILE   edgefront settings with distributions, or a DistributionConfig
                  as 'aws cloudfront get-distribution-config' prints it
  --origin URL    quick mode: one distribution in front of one HTTP origin,
                  with the managed CachingOptimized cache policy
  (neither)       the embedded demo: an in-process S3 bucket and an API origin

Flags override the file's settings. SIGHUP reloads --config; a bad file is
refused with its errors and the running configuration keeps serving.

Flags:
`

// serveFlags are the serve command's flags.
type serveFlags struct {
	config, origin          string
	http, https, admin      string
	cacheSize               string
	set                     map[string]bool // flags given on the command line
	logFormat, logLevelName string
	accessLog, accessFormat string
	accessMaxSize           string
	accessKeep              int
}

func serve(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", serveHelp, stderr)
	var f serveFlags
	fs.StringVar(&f.config, "config", "", "configuration `FILE` (JSON or YAML)")
	fs.StringVar(&f.origin, "origin", "", "quick mode: cache in front of the origin at `URL` (http:// or https://)")
	fs.StringVar(&f.http, "http", config.DefaultHTTPAddr, "plain-HTTP viewer listener `ADDR` (\"\" to disable)")
	fs.StringVar(&f.https, "https", config.DefaultHTTPSAddr, "HTTPS viewer listener `ADDR`, HTTP/1.1 and HTTP/2 (\"\" to disable)")
	fs.StringVar(&f.admin, "admin", config.DefaultAdminAddr, "admin listener `ADDR`: /metrics, /healthz (\"\" to disable)")
	fs.StringVar(&f.cacheSize, "cache-size", "", "cache memory `SIZE`, e.g. 512MiB or 2GiB (default from config, else 512MiB)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log `FORMAT`: text or json")
	fs.StringVar(&f.logLevelName, "log-level", "info", "log `LEVEL`: debug, info, warn, error")
	fs.StringVar(&f.accessLog, "access-log", "", "write CloudFront standard access logs to `FILE` (\"-\" for stdout; rotated by size)")
	fs.StringVar(&f.accessFormat, "access-log-format", "standard", "access log `FORMAT`: standard (CloudFront's tab-separated fields) or json (real-time log field names)")
	fs.StringVar(&f.accessMaxSize, "access-log-max-size", "100MiB", "rotate the access log file at `SIZE`")
	fs.IntVar(&f.accessKeep, "access-log-keep", 10, "rotated access log files to keep (`N`)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if f.config != "" && f.origin != "" {
		fmt.Fprintln(stderr, "edgefront serve: give --config or --origin, not both")
		return errUsage
	}
	log, err := newLogger(stderr, f.logFormat, f.logLevelName)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	e, err := startEdge(ctx, f, log)
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
	e.printWelcome(stdout)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			log.Info("shutting down: finishing requests under way")
			return e.shutdown(10 * time.Second)
		case err := <-e.failed:
			return err
		case <-hup:
			e.reload()
		}
	}
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
	demo    *demo.Demo
	store   *cache.Store
	access  *accesslog.Logger
	proxy   *proxy.Server
	servers []*http.Server
	addrs   map[string]string // listener name → bound address
	failed  chan error
}

// loadConfig reads the configuration the flags choose and applies the flag
// overrides.
func (e *edge) loadConfig(ctx context.Context) (*config.Config, error) {
	f := e.flags
	var cfg *config.Config
	var err error
	switch {
	case f.config != "":
		cfg, err = config.Load(f.config)
	case f.origin != "":
		cfg, err = config.ForOrigin(f.origin)
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
	return &c, nil
}

func startEdge(ctx context.Context, f serveFlags, log *slog.Logger) (*edge, error) {
	e := &edge{flags: f, log: log, addrs: map[string]string{}, failed: make(chan error, 3)}
	cfg, err := e.loadConfig(ctx)
	if err != nil {
		e.close()
		return nil, err
	}
	e.store, err = cache.New(cache.Options{MaxBytes: cfg.Cache.Size})
	if err != nil {
		e.close()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerCacheMetrics(reg, e.store)
	if e.access, err = openAccessLog(f, os.Stdout); err != nil {
		e.close()
		return nil, err
	}
	e.proxy, err = proxy.New(proxy.Options{Store: e.store, Registry: reg, Logger: log, AccessLog: e.access})
	if err != nil {
		e.close()
		return nil, err
	}
	if err := e.proxy.Load(cfg); err != nil {
		e.close()
		return nil, err
	}

	var names []string
	for _, d := range cfg.Distributions {
		names = append(names, d.DomainName)
		names = append(names, d.Aliases...)
	}
	certs, err := edgetls.New(cfg.TLS, names)
	if err != nil {
		e.close()
		return nil, err
	}
	admin := http.NewServeMux()
	admin.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	admin.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})

	listeners := []struct {
		name, addr string
		handler    http.Handler
		tls        bool
	}{
		{"http", cfg.Listen.HTTP, certs.HTTPHandler(e.proxy), false},
		{"https", cfg.Listen.HTTPS, e.proxy, true},
		{"admin", cfg.Listen.Admin, admin, false},
	}
	for _, l := range listeners {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			e.close()
			return nil, fmt.Errorf("%s listener: %w", l.name, err)
		}
		e.addrs[l.name] = ln.Addr().String()
		srv := &http.Server{
			Handler:           l.handler,
			ReadHeaderTimeout: 10 * time.Second, // slow clients
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		}
		if l.tls {
			// ServeTLS negotiates HTTP/2 or HTTP/1.1 by ALPN.
			srv.TLSConfig = certs.Config()
		}
		e.servers = append(e.servers, srv)
		go func(name string, useTLS bool) {
			var err error
			if useTLS {
				err = srv.ServeTLS(ln, "", "")
			} else {
				err = srv.Serve(ln)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				e.failed <- fmt.Errorf("%s listener: %w", name, err)
			}
		}(l.name, l.tls)
	}
	return e, nil
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

// registerCacheMetrics exports the cache's size on reg.
func registerCacheMetrics(reg prometheus.Registerer, store *cache.Store) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "edgefront", Name: "cache_items", Help: "Objects in the cache.",
		}, func() float64 { n, _ := store.Stats(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "edgefront", Name: "cache_bytes", Help: "Bytes the cached objects cost (bodies and headers).",
		}, func() float64 { _, b := store.Stats(); return float64(b) }),
	)
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
	cfg, err := e.loadConfig(context.Background())
	if err == nil {
		err = e.proxy.Load(cfg)
	}
	if err != nil {
		e.log.Error("reload refused; the running configuration keeps serving", "file", e.flags.config, "err", err)
		return
	}
	e.log.Info("configuration reloaded", "file", e.flags.config, "distributions", len(cfg.Distributions))
}

// shutdown stops accepting requests and waits up to grace for those under way.
func (e *edge) shutdown(grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var errs []error
	for _, s := range e.servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (e *edge) close() {
	for _, s := range e.servers {
		_ = s.Close()
	}
	if e.proxy != nil {
		e.proxy.Close()
	}
	if e.access != nil {
		_ = e.access.Close()
	}
	if e.store != nil {
		e.store.Close()
	}
	if e.demo != nil {
		_ = e.demo.Close()
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
	if a := e.addrs["http"]; a != "" {
		fmt.Fprintf(w, "  http   http://%s\n", a)
	}
	if a := e.addrs["https"]; a != "" {
		fmt.Fprintf(w, "  https  https://%s  (HTTP/1.1 and HTTP/2; self-signed unless configured: curl -k)\n", a)
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
	fmt.Fprintln(w, "\nCtrl-C stops; SIGHUP reloads --config.")
}
