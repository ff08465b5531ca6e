package h2

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// headerBlock is the header block being read: HEADERS and the
// CONTINUATION frames that follow it.
type headerBlock struct {
	inBlock   bool
	st        *stream // a new stream's or, for trailers, the open one's; nil: decoded and dropped
	id        uint32
	trailers  bool
	endStream bool
	started   time.Time
	encoded   int
	size      uint32 // RFC 9113 §6.5.2 size of the fields so far
	truncated bool   // over the limit: decoded (for HPACK's state) and dropped
	regular   bool   // a regular field was seen
	invalid   string // why the block is malformed (a stream error)
	refuse    error  // the stream error to answer once decoded
	pseudo    uint8  // the pseudo-header fields seen
}

func (h *headerBlock) active() bool { return h.inBlock }

// Pseudo-header fields of a request (RFC 9113 §8.3.1).
const (
	pMethod uint8 = 1 << iota
	pScheme
	pPath
	pAuthority
)

// onHeaders starts a header block: a new request, or trailers.
func (c *conn) onHeaders(f *http2.HeadersFrame) error {
	id := f.StreamID
	if id%2 == 0 {
		return connError{http2.ErrCodeProtocol, "even stream ID from a client"}
	}
	c.hb = headerBlock{inBlock: true, id: id, endStream: f.StreamEnded(), started: time.Now()}
	hb := &c.hb
	c.mu.Lock()
	st := c.streams[id]
	open, goingAway, lastID := c.open, c.goingAway, c.lastID
	handlers := c.handlers
	c.mu.Unlock()
	switch {
	case st != nil:
		// Trailers (RFC 9113 §8.1): they must end the stream.
		hb.trailers = true
		switch {
		case st.recvEnded || st.reset:
			hb.refuse = streamError{id, http2.ErrCodeStreamClosed, "HEADERS on a half-closed stream"}
		case !f.StreamEnded():
			hb.refuse = streamError{id, http2.ErrCodeProtocol, "trailers without END_STREAM"}
		default:
			hb.st = st
		}
	case id <= c.maxClientID:
		return connError{http2.ErrCodeProtocol, "HEADERS on a closed stream"}
	default:
		c.mu.Lock() // read by goAway (Shutdown)
		c.maxClientID = id
		c.mu.Unlock()
		switch {
		case goingAway && id > lastID:
			// Started after our GOAWAY: ignored (RFC 9113 §6.8).
		case open >= int(c.lim.maxStreams):
			code := http2.ErrCodeProtocol
			if c.unackedSet > 0 {
				code = http2.ErrCodeRefusedStream
			}
			hb.refuse = streamError{id, code, "over MAX_CONCURRENT_STREAMS"}
		case handlers >= 4*int(c.lim.maxStreams):
			// Handlers of reset streams still running (rapid reset).
			hb.refuse = streamError{id, http2.ErrCodeRefusedStream, "too many handlers running"}
		default:
			hb.st = c.newStream(id)
		}
	}
	if f.HasPriority() && f.Priority.StreamDep == id && hb.refuse == nil {
		hb.refuse = streamError{id, http2.ErrCodeProtocol, "stream depends on itself"}
	}
	return c.decode(f.HeaderBlockFragment(), f.HeadersEnded())
}

// onContinuation continues the header block.
func (c *conn) onContinuation(f *http2.ContinuationFrame) error {
	frag := f.HeaderBlockFragment()
	if len(frag) == 0 && !f.HeadersEnded() {
		if err := c.spend(); err != nil {
			return err
		}
	}
	return c.decode(frag, f.HeadersEnded())
}

// decode feeds a fragment of the header block to the HPACK decoder. Every
// block is decoded, even one that is refused, to keep the decoder's table
// in step with the viewer's encoder.
func (c *conn) decode(frag []byte, end bool) error {
	hb := &c.hb
	hb.encoded += len(frag)
	if hb.encoded > 2*int(c.lim.maxHeaderList) {
		// A block this large is not worth decoding (CONTINUATION flood).
		return connError{http2.ErrCodeProtocol, "header block too large"}
	}
	if _, err := c.dec.Write(frag); err != nil {
		return connError{http2.ErrCodeCompression, "HPACK: " + err.Error()}
	}
	if !end {
		return nil
	}
	if err := c.dec.Close(); err != nil {
		return connError{http2.ErrCodeCompression, "HPACK: " + err.Error()}
	}
	hb.inBlock = false
	return c.endBlock()
}

// onField receives each decoded field of the block.
func (c *conn) onField(hf hpack.HeaderField) {
	hb := &c.hb
	st := hb.st
	if st == nil || hb.refuse != nil || hb.invalid != "" || hb.truncated {
		return
	}
	hb.size += hf.Size()
	if hb.size > c.lim.maxHeaderList {
		hb.truncated = true
		return
	}
	if !httpguts.ValidHeaderFieldValue(hf.Value) {
		hb.invalid = "invalid field value"
		return
	}
	if strings.HasPrefix(hf.Name, ":") {
		if hb.regular || hb.trailers {
			hb.invalid = "pseudo-header field after regular fields or in trailers"
			return
		}
		var bit uint8
		switch hf.Name {
		case ":method":
			bit, st.method = pMethod, hf.Value
		case ":scheme":
			bit, st.scheme = pScheme, hf.Value
		case ":path":
			bit, st.path = pPath, hf.Value
		case ":authority":
			bit, st.authority = pAuthority, hf.Value
		default:
			hb.invalid = "unknown pseudo-header field"
			return
		}
		if hb.pseudo&bit != 0 {
			hb.invalid = "duplicate pseudo-header field"
		}
		hb.pseudo |= bit
		return
	}
	hb.regular = true
	if !validWireName(hf.Name) {
		hb.invalid = "invalid field name"
		return
	}
	key := c.canonical(hf.Name)
	if hb.trailers {
		if !st.addTrailer(key, hf.Value) {
			hb.invalid = "field not allowed in trailers"
		}
		return
	}
	st.addHeader(key, hf.Value)
}

// validWireName reports whether name is a valid lowercase field name.
func validWireName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		if 'A' <= b && b <= 'Z' || !httpguts.IsTokenRune(rune(b)) {
			return false
		}
	}
	return true
}

// canonical is the http.Header key of a lowercase wire name, cached per
// connection (bounded: past 256 names it is computed each time).
func (c *conn) canonical(name string) string {
	if k, ok := commonKeys[name]; ok {
		return k
	}
	if k, ok := c.canon[name]; ok {
		return k
	}
	k := textproto.CanonicalMIMEHeaderKey(name)
	if len(c.canon) < 256 {
		c.canon[name] = k
	}
	return k
}

// commonKeys are the canonical keys of common request fields, never
// written after init.
var commonKeys = func() map[string]string {
	m := make(map[string]string)
	for _, k := range []string{"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Authorization",
		"Cache-Control", "Content-Length", "Content-Type", "Cookie", "Date", "Expect", "Forwarded", "From", "Host",
		"If-Match", "If-Modified-Since", "If-None-Match", "If-Range", "If-Unmodified-Since", "Origin", "Pragma",
		"Range", "Referer", "Te", "Trailer", "User-Agent", "Via", "X-Forwarded-For", "X-Forwarded-Proto",
		"Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile",
		"Sec-Ch-Ua-Platform", "Upgrade-Insecure-Requests", "Priority", "Dnt"} {
		m[strings.ToLower(k)] = k
	}
	return m
}()

// endBlock acts on a complete header block.
func (c *conn) endBlock() error {
	hb := c.hb
	c.hb = headerBlock{}
	st := hb.st
	if hb.trailers {
		if hb.refuse != nil {
			return hb.refuse
		}
		if hb.invalid != "" || hb.truncated {
			return streamError{hb.id, http2.ErrCodeProtocol, "malformed trailers"}
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if st.reset || c.streams[hb.id] != st {
			return nil
		}
		st.shortBody()
		st.bodyEOF = true
		c.endRecv(st)
		c.cond.Broadcast()
		return nil
	}
	if hb.refuse != nil || st == nil {
		if st != nil {
			st.release()
		}
		return hb.refuse
	}
	if hb.invalid != "" {
		st.release()
		return streamError{hb.id, http2.ErrCodeProtocol, hb.invalid}
	}
	if hb.truncated {
		// 431, as net/http answers (RFC 9113 §10.5.1).
		if st.method == "" {
			st.method = http.MethodGet
		}
		clear(st.hdr)
		c.register(st, hb.endStream)
		c.serveInline(st, tooLarge{})
		return nil
	}
	if reason := c.buildRequest(st, hb.endStream); reason != "" {
		st.release()
		return streamError{hb.id, http2.ErrCodeProtocol, reason}
	}
	c.register(st, hb.endStream)
	if msg := connectionSpecific(st.hdr); msg != "" {
		// Malformed (RFC 9113 §8.2.2): net/http answers 400 with why; so
		// does this server, then resets the stream with PROTOCOL_ERROR as
		// §8.1.1 has it.
		st.malformed = true
		c.serveInline(st, badRequest(msg))
		return nil
	}
	c.start(st)
	return nil
}

// connectionSpecific says why a request's fields are not valid in HTTP/2
// (RFC 9113 §8.2.2), in net/http's words; "" when they are.
func connectionSpecific(h http.Header) string {
	for _, k := range [...]string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade"} {
		if _, ok := h[k]; ok {
			return `request header "` + k + `" is not valid in HTTP/2`
		}
	}
	if te := h["Te"]; len(te) > 1 || len(te) == 1 && te[0] != "trailers" && te[0] != "" {
		return `request header "TE" may only be "trailers" in HTTP/2`
	}
	return ""
}

// badRequest answers 400 with msg, as net/http's http.Error does.
type badRequest string

func (m badRequest) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, string(m), http.StatusBadRequest)
}

// tooLarge answers a request whose header list is over the limit, as
// net/http's HTTP/2 server does.
type tooLarge struct{}

func (tooLarge) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
	_, _ = w.Write([]byte("<h1>HTTP Error 431</h1><p>Request Header Field(s) Too Large</p>"))
}

// buildRequest checks the request's pseudo-header fields (RFC 9113 §8.3.1)
// as net/http does and fills in st.req; a reason when it is malformed.
func (c *conn) buildRequest(st *stream, endStream bool) string {
	connect := st.method == http.MethodConnect
	switch {
	case connect:
		if st.path != "" || st.scheme != "" || st.authority == "" {
			return "malformed CONNECT"
		}
	case st.method == "" || st.path == "" || st.scheme != "https" && st.scheme != "http":
		return "missing or bad :method, :path or :scheme"
	}
	h := st.hdr
	if len(st.cookies) > 0 {
		// RFC 9113 §8.2.3: one Cookie field again.
		if len(st.cookies) == 1 {
			h["Cookie"] = st.cookies[:1:1]
		} else {
			h["Cookie"] = []string{strings.Join(st.cookies, "; ")}
		}
	}
	var trailer http.Header
	if vs := h["Trailer"]; len(vs) > 0 {
		for _, v := range vs {
			for key := range strings.SplitSeq(v, ",") {
				key = textproto.CanonicalMIMEHeaderKey(textproto.TrimString(key))
				switch key {
				case "Transfer-Encoding", "Trailer", "Content-Length":
				default:
					if trailer == nil {
						trailer = make(http.Header)
					}
					trailer[key] = nil
				}
			}
		}
		delete(h, "Trailer")
	}
	st.continueWanted = false
	if vs := h["Expect"]; len(vs) > 0 && httpguts.HeaderValuesContainsToken(vs, "100-continue") {
		st.continueWanted = !endStream
		delete(h, "Expect")
	}
	authority := st.authority
	if hosts := h["Host"]; len(hosts) == 1 {
		if authority == "" {
			authority = hosts[0]
		} else if hosts[0] != authority {
			return "Host differs from :authority"
		}
		delete(h, "Host")
	} else if len(hosts) > 1 {
		return "several Host fields"
	}
	if strings.IndexByte(authority, '@') >= 0 && !connect {
		return "userinfo in :authority"
	}
	if authority != "" && !httpguts.ValidHostHeader(authority) {
		return "invalid :authority"
	}
	r := &st.req
	*r = *st.base // carries the stream's context
	r.Method, r.Proto, r.ProtoMajor = st.method, "HTTP/2.0", 2
	r.Header, r.RemoteAddr, r.Host, r.Trailer = h, c.remote, authority, trailer
	if connect {
		st.u = url.URL{Host: authority}
		r.RequestURI = authority
	} else {
		if st.path[0] != '/' && st.path != "*" {
			return "bad :path"
		}
		if !parsePath(&st.u, st.path) {
			u, err := url.ParseRequestURI(st.path)
			if err != nil {
				return "bad :path"
			}
			st.u = *u
		}
		r.RequestURI = st.path
	}
	r.URL = &st.u
	st.ctx.base, st.ctx.local = c.base, c.nc.LocalAddr()
	if st.scheme == "https" {
		r.TLS = c.tls
	}
	st.declared = -1
	if vs := h["Content-Length"]; len(vs) > 0 {
		// As net/http: the first value counts; one it cannot read allows
		// no body at all.
		st.declared = 0
		if n, err := strconv.ParseUint(vs[0], 10, 63); err == nil {
			st.declared = int64(n)
		}
	}
	if endStream {
		r.Body = http.NoBody
	} else {
		r.ContentLength = st.declared
		// Its own object: whatever still holds it once the handler
		// returned (a transport sending it on) reads an error, never a
		// later request's body.
		st.rb = &requestBody{c: c, st: st}
		r.Body = st.rb
	}
	st.bodyDeadline = time.Now().Add(c.lim.body)
	return ""
}

// parsePath fills u from a request target made only of characters that
// need no unescaping — the common case — without allocating; false when
// url.ParseRequestURI must do it.
func parsePath(u *url.URL, p string) bool {
	for i := 0; i < len(p); i++ {
		b := p[i]
		if b <= ' ' || b >= 0x7f || b == '%' || b == '#' {
			return false
		}
	}
	path, query, _ := strings.Cut(p, "?")
	*u = url.URL{Path: path, RawQuery: query}
	if strings.IndexByte(p, '?') >= 0 && query == "" {
		u.ForceQuery = true
	}
	return true
}
