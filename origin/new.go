package origin

import "github.com/edgefront/edgefront/config"

// New returns the Fetcher for a compiled origin: an S3 fetcher when o.S3 is
// set, an HTTP fetcher when o.Custom is set. The Fetcher owns its connection
// pool; call Close (every Fetcher here implements io.Closer) when a reload
// retires it.
func New(o *config.Origin) (Fetcher, error) { panic("TODO(origin helper)") }

// NewGroup returns a Fetcher that fails over from primary to secondary, as a
// CloudFront origin group does: only for GET, HEAD and OPTIONS, when the
// primary answers one of g.FailoverCodes or cannot be reached / times out.
func NewGroup(g *config.OriginGroup, primary, secondary Fetcher) Fetcher {
	panic("TODO(origin helper)")
}
