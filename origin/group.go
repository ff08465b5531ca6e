package origin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/edgefront/edgefront/config"
)

// group is a CloudFront origin group: every request goes to the primary; a
// GET, HEAD or OPTIONS request goes again to the secondary when the primary
// answers one of the failover status codes, cannot be connected to, or times
// out (CloudFront Developer Guide, "Optimize high availability with
// CloudFront origin failover"). Other methods never fail over.
type group struct {
	id                 string
	codes              []int
	primary, secondary Fetcher
}

// NewGroup returns a Fetcher that fails over from primary to secondary, as a
// CloudFront origin group does: only for GET, HEAD and OPTIONS, when the
// primary answers one of g.FailoverCodes or cannot be reached / times out.
// Closing the group closes the idle connections of both members.
func NewGroup(g *config.OriginGroup, primary, secondary Fetcher) Fetcher {
	return &group{id: g.ID, codes: slices.Clone(g.FailoverCodes), primary: primary, secondary: secondary}
}

// Fetch asks the primary, then, if CloudFront would, the secondary.
func (g *group) Fetch(ctx context.Context, r *Request) (*Response, error) {
	resp, err := g.primary.Fetch(ctx, r)
	if !g.mayFailOver(r) {
		return resp, err
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || (e.Kind != Connect && e.Kind != Timeout) {
			return nil, err
		}
	} else {
		if !slices.Contains(g.codes, resp.StatusCode) {
			return resp, nil
		}
		resp.Body.Close() // the primary's answer is not used
	}
	if ctx.Err() != nil {
		return nil, &Error{Kind: Canceled, OriginID: g.id, Err: context.Cause(ctx)}
	}
	return g.secondary.Fetch(ctx, r)
}

// mayFailOver reports whether r can be sent to the secondary: its method is
// GET, HEAD or OPTIONS and it has no body the primary may have consumed.
func (g *group) mayFailOver(r *Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return false
	}
	return r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0
}

// Close closes the idle connections of both members; they stay usable.
func (g *group) Close() error {
	var errs []error
	for _, f := range []Fetcher{g.primary, g.secondary} {
		if c, ok := f.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}
