// Package demo runs edgefront's embedded default: an S3-compatible bucket in
// the process, seeded with a small demo site, and a built-in API origin that
// answers like an API Gateway stage.
//
// Both origins listen on loopback sockets with ephemeral ports, so the proxy
// reaches them exactly as it reaches any S3 bucket or custom origin: the
// bucket through the AWS SDK's S3 client, the API over plain HTTP. Config
// returns the demo distribution that puts them behind one CloudFront-style
// domain name.
package demo

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// The demo distribution's names, as its configuration spells them.
const (
	DistributionID = "EDEMO0EXAMPLE1"
	DomainName     = "d111111abcdef8.cloudfront.net"

	// Bucket is the demo bucket; BucketOriginID is its origin's ID.
	Bucket         = "edgefront-demo"
	BucketOriginID = "demo-bucket"

	// The demo bucket's static credentials and region. The in-process S3
	// server accepts any credentials; these are what the configuration names.
	AccessKeyID     = "edgefront-demo"
	SecretAccessKey = "edgefront-demo-secret"
	Region          = "us-east-1"

	// APIDomainName is the API origin's domain name: the API answers 403
	// to any other Host, as API Gateway does. APIStage is its stage path
	// (the origin's OriginPath) and APIOriginID its origin's ID.
	APIDomainName = "abc123demo.execute-api.us-east-1.amazonaws.com"
	APIStage      = "/prod"
	APIOriginID   = "demo-api"

	// FunctionName is the demo's CloudFront Function (viewer-request, on
	// the default behaviour): /dir/ → /dir/index.html, and /go/NAME
	// redirects to the URL the key value store RedirectStore holds for
	// NAME.
	FunctionName  = "demo-site"
	RedirectStore = "demo-redirects"
)

// functionFiles are the demo function's code, its key value store (in
// CloudFront's import format) and a test event for `edgefront
// test-function`.
//
//go:embed functions
var functionFiles embed.FS

// Demo is the running demo origins.
type Demo struct {
	s3URL, apiURL string
	// dir holds the function's code and store, written at Start for the
	// configuration to read (it names files, as a user's would).
	dir       string
	servers   []*http.Server
	wg        sync.WaitGroup // the servers' Serve goroutines
	closeOnce sync.Once
	closeErr  error
}

// Start starts the demo origins on loopback listeners with ephemeral ports
// and seeds the bucket. ctx bounds the start only; the origins run until
// Close.
func Start(ctx context.Context) (*Demo, error) {
	backend := s3mem.New()
	if err := seed(backend, time.Now()); err != nil {
		return nil, err
	}
	s3ln, err := listen(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: s3 origin: %w", err)
	}
	apiln, err := listen(ctx)
	if err != nil {
		s3ln.Close()
		return nil, fmt.Errorf("demo: api origin: %w", err)
	}

	dir, err := writeFunctions()
	if err != nil {
		s3ln.Close()
		apiln.Close()
		return nil, err
	}
	d := &Demo{
		s3URL:  "http://" + s3ln.Addr().String(),
		apiURL: "http://" + apiln.Addr().String(),
		dir:    dir,
	}
	d.serve(s3ln, gofakes3.New(backend).Server())
	d.serve(apiln, newAPI())
	return d, nil
}

// listen opens a loopback listener on an ephemeral port.
func listen(ctx context.Context) (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", "127.0.0.1:0")
}

// serve serves h on ln until Close.
func (d *Demo) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	d.servers = append(d.servers, srv)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		_ = srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
}

// S3URL returns the base URL of the in-process S3-compatible server, e.g.
// "http://127.0.0.1:41234"; the bucket is addressed path-style under it.
func (d *Demo) S3URL() string { return d.s3URL }

// APIURL returns the base URL of the API origin, e.g.
// "http://127.0.0.1:41235"; its routes are under APIStage.
func (d *Demo) APIURL() string { return d.apiURL }

// Close stops the demo origins, closing their open connections. It may be
// called more than once.
func (d *Demo) Close() error {
	d.closeOnce.Do(func() {
		var errs []error
		for _, srv := range d.servers {
			errs = append(errs, srv.Close())
		}
		d.wg.Wait()
		errs = append(errs, os.RemoveAll(d.dir))
		if err := errors.Join(errs...); err != nil {
			d.closeErr = fmt.Errorf("demo: close: %w", err)
		}
	})
	return d.closeErr
}

// writeFunctions writes functionFiles to a new temporary directory.
func writeFunctions() (string, error) {
	dir, err := os.MkdirTemp("", "edgefront-demo-")
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	entries, err := functionFiles.ReadDir("functions")
	for _, e := range entries {
		var data []byte
		if data, err = functionFiles.ReadFile("functions/" + e.Name()); err != nil {
			break
		}
		if err = os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			break
		}
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("demo: writing the function's files: %w", err)
	}
	return dir, nil
}

// TestEvent is the file of a test event for the demo function (a
// viewer-request for /about), for `edgefront test-function`.
func (d *Demo) TestEvent() string { return filepath.Join(d.dir, "about-event.json") }
