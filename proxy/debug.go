package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgefront/edgefront/cache"
)

// debugHeaders explains an answer to the developer who asked "why was this
// a miss?" (Options.DebugHeaders, serve --debug-headers): an RFC 9211
// Cache-Status — what the cache did, the remaining TTL, whether the answer
// was stored, the cache key — and X-Edgefront-Explain, naming the
// distribution, the behaviour's path pattern, the cache policy, the row of
// CloudFront's TTL table that set the TTL, the key, the origin and the
// endpoint that answered, and the hooks that ran.
func (s *Server) debugHeaders(x *exchange, h http.Header, a answer) {
	var cs strings.Builder
	cs.WriteString("edgefront")
	switch a.phase {
	case phaseHit:
		cs.WriteString("; hit")
	case phaseStale:
		cs.WriteString(`; hit; detail="stale"`)
	case phaseRefreshHit:
		cs.WriteString("; fwd=stale")
	case phaseMiss:
		cs.WriteString("; fwd=uri-miss")
	case phasePass:
		cs.WriteString("; fwd=bypass") // not cacheable: straight to the origin
	case phaseError:
		if a.served && len(x.keyBuf) > 0 {
			cs.WriteString("; fwd=uri-miss") // the origin's error
		} else if a.served {
			cs.WriteString("; fwd=bypass")
		} else {
			cs.WriteString(`; detail="error"`) // edgefront answered itself
		}
	default:
		cs.WriteString(`; detail="` + strings.ToLower(a.phase.result()) + `"`) // edgefront answered itself
	}
	if a.served && a.phase != phaseHit && a.phase != phaseStale {
		cs.WriteString("; fwd-status=" + strconv.Itoa(a.status))
	}
	rule := ""
	switch {
	case a.decision != nil:
		rule = a.decision.Rule
		if a.decision.Store {
			cs.WriteString("; stored; ttl=" + strconv.FormatInt(int64(a.decision.TTL/time.Second), 10))
		}
	case a.entry != nil:
		left := a.entry.TTL - x.start.Sub(a.entry.Stored())
		cs.WriteString("; ttl=" + strconv.FormatInt(int64(left/time.Second), 10))
		rule = s.entryRule(x, a.entry)
	}
	key := ""
	if len(x.keyBuf) > 0 {
		key = cache.DescribeKey(string(x.keyBuf))
		cs.WriteString("; key=" + sfString(key))
	}
	h["Cache-Status"] = []string{cs.String()}

	var ex strings.Builder
	add := func(name, value string) {
		if value != "" {
			if ex.Len() > 0 {
				ex.WriteString("; ")
			}
			ex.WriteString(name + "=" + sfString(value))
		}
	}
	if x.ds != nil {
		add("distribution", x.ds.dist.ID)
	}
	if x.b != nil {
		add("behavior", x.b.PathPattern)
		if p := x.b.CachePolicy; p != nil {
			add("cache-policy", firstOf(p.Name, p.ID))
		}
		add("ttl-rule", rule)
		add("key", key)
		add("origin", x.b.TargetOriginID)
	}
	add("endpoint", a.endpoint)
	add("hooks", hooksRan(x.st.hooks, a))
	if ex.Len() > 0 {
		h["X-Edgefront-Explain"] = []string{ex.String()}
	}
}

// entryRule is the TTL rule of a cached entry, decided again from its
// stored headers as when it was stored.
func (s *Server) entryRule(x *exchange, e *cache.Entry) string {
	hdr := http.Header{}
	e.Header.CopyTo(hdr)
	if e.InitialAge() > 0 {
		hdr["Age"] = ageValue(int64(e.InitialAge() / time.Second))
	}
	if x.ds.dist.RFC9111() {
		return cache.FreshnessRFC9111(e.Status, hdr, x.b.CachePolicy, e.Stored()).Rule
	}
	if e.Status >= 400 {
		return cache.ErrorFreshness(e.Status, hdr, x.ds.dist.ErrorCachingMinTTL(e.Status), x.b.CachePolicy.MaxTTL, e.Stored()).Rule
	}
	return cache.Freshness(hdr, x.b.CachePolicy, e.Stored()).Rule
}

// hooksRan lists the hook points with code installed that this answer went
// through.
func hooksRan(hooks Hooks, a answer) string {
	var ran []string
	for p := ViewerRequest; p <= ViewerResponse; p++ {
		if hooks[p] == nil {
			continue
		}
		switch p {
		case OriginRequest, OriginResponse:
			if !a.upstream {
				continue
			}
		case ViewerResponse:
			if !a.served {
				continue
			}
		}
		ran = append(ran, p.String())
	}
	return strings.Join(ran, ",")
}

// sfString is s as an RFC 8941 string: quoted, with '"' and '\' escaped and
// anything outside printable ASCII dropped.
func sfString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
