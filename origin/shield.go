package origin

import (
	"fmt"
	"time"

	"github.com/edgefront/edgefront/config"
)

// ShieldID is the OriginID of the errors of a shield fetcher.
const ShieldID = "origin-shield"

// NewShield returns the Fetcher of a distribution that has an origin shield
// (d.Shield): another edgefront node that runs the same distribution and
// fetches from the origins itself, so that the misses of many edges become
// one origin request. Every request of the distribution goes to the shield
// as it would to a custom origin, with three differences:
//
//   - the path is the viewer's (the shield adds each origin's OriginPath);
//   - Host is the distribution's domain name (or the viewer's Host when the
//     policies forward it), so the shield picks the same distribution;
//   - no origin custom headers are added (the shield adds them).
//
// The headers, cookies and query string the proxy forwards (the origin
// request policy, a superset of the cache key) go along unchanged, so the
// shield computes the same cache key. The wait for the shield's answer
// covers the longest the shield itself may wait for an origin, failover
// included.
func NewShield(d *config.Distribution, opts ...Option) (Fetcher, error) {
	var op options
	for _, fn := range opts {
		fn(&op)
	}
	if d == nil || d.Shield == "" {
		return nil, fmt.Errorf("origin shield: the distribution has none")
	}
	t, err := parseEndpoint(d.Shield)
	if err != nil {
		return nil, fmt.Errorf("origin shield: %w", err)
	}
	f := &httpFetcher{
		id:     ShieldID,
		domain: d.DomainName,
		settings: connSettings{
			attempts:       fallbackAttempts,
			connectTimeout: fallbackConnectTimeout,
			readTimeout:    shieldWait(d),
			keepalive:      fallbackKeepalive,
		},
	}
	tlsConf, err := tlsConfig(nil, op.rootCAs)
	if err != nil {
		return nil, fmt.Errorf("origin shield: %w", err)
	}
	f.transport = newTransport(f.settings, tlsConf)
	// One endpoint that is never ejected: there is nowhere else to go.
	f.balancer = newBalancer([]target{t}, &config.Balancing{Policy: config.RoundRobin}, nil)
	f.picker = f.balancer
	return f, nil
}

// shieldWait is how long an edge waits for its shield's response (and for
// each piece of its body): the longest the shield may take to get an
// answer from one of d's origins — every connection attempt, then the read
// timeout — twice when origin groups may fail over, plus a margin.
func shieldWait(d *config.Distribution) time.Duration {
	var longest time.Duration
	for _, o := range d.Origins {
		s := settingsOf(o)
		longest = max(longest, time.Duration(s.attempts)*s.connectTimeout+s.readTimeout)
	}
	if len(d.OriginGroups) > 0 {
		longest *= 2
	}
	return max(longest, fallbackReadTimeout) + 5*time.Second
}
