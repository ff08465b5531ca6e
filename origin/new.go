package origin

import (
	"crypto/x509"
	"fmt"

	"github.com/edgefront/edgefront/config"
)

// New returns the Fetcher for a compiled origin: an S3 fetcher when o.S3 is
// set, an HTTP fetcher when o.Custom is set. The Fetcher owns its connection
// pool; call Close (every Fetcher here implements io.Closer) when a reload
// retires it.
func New(o *config.Origin, opts ...Option) (Fetcher, error) {
	var op options
	for _, fn := range opts {
		fn(&op)
	}
	switch {
	case o == nil:
		return nil, fmt.Errorf("origin: nil origin")
	case o.S3 != nil:
		return newS3(o, op)
	case o.Custom != nil:
		return newHTTP(o, op)
	}
	return nil, fmt.Errorf("origin %q: neither an S3 nor a custom origin", o.ID)
}

// Option adjusts how New builds a Fetcher.
type Option func(*options)

type options struct {
	rootCAs *x509.CertPool
}

// WithRootCAs makes the fetcher trust the certificates of pool instead of the
// system's roots when it speaks HTTPS to the origin (a test CA, a private
// PKI). Certificates are always verified.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(o *options) { o.rootCAs = pool }
}
