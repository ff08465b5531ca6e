package h2

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// fuzzHandler answers with what it was asked, the same way through
// ServeFast (edgefront's reader) and ServeHTTP.
type fuzzHandler struct{}

func (fuzzHandler) answer(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var keys []string
	for k := range r.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.Header().Set("Content-Type", "text/plain")
	if r.Method == http.MethodHead {
		w.Header().Set("X-Head", "1")
	}
	fmt.Fprintf(w, "%s %s host=%q cl=%d tls=%v\n", r.Method, r.RequestURI, r.Host, r.ContentLength, r.TLS != nil)
	for _, k := range keys {
		fmt.Fprintf(w, "%s: %q\n", k, r.Header[k])
	}
	fmt.Fprintf(w, "body %q trailer %v\n", body, r.Trailer)
}

func (h fuzzHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.answer(w, r) }

func (h fuzzHandler) ServeFast(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost {
		return false // through a goroutine too
	}
	h.answer(w, r)
	return true
}

// outcome is what a client saw of one stream.
type outcome struct {
	status, ctype, clen string
	body                string
	answered, refused   bool
}

// transcript is what a client saw of a connection.
type transcript struct {
	streams   map[uint32]*outcome
	connError bool // GOAWAY with an error code
	lax       bool // the sequence makes connection errors timing-dependent
	sawReset  bool // the server reset a stream
}

// fuzzOps turns bytes into a frame sequence, written to fr; it returns
// the streams the client ended (whose answers count).
func fuzzOps(data []byte, fr *http2.Framer) (ended, opened []uint32, lax bool) {
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	i := 0
	next := func() byte {
		if i >= len(data) {
			return 0
		}
		i++
		return data[i-1]
	}
	ids := []uint32{1, 3, 5, 7, 1, 3, 0, 2}
	methods := []string{"GET", "POST", "HEAD", "CONNECT", "OPTIONS", ""}
	paths := []string{"/", "/a?b=c", "", "*", "/%2e%2E/x", "/p q", "/é"}
	extras := [][2]string{{"content-length", "3"}, {"te", "trailers"}, {"connection", "x"}, {"X-Up", "1"},
		{"cookie", "a=1"}, {"cookie", "b=2"}, {"host", "localhost"}, {"host", "other"}, {"trailer", "x-t"},
		{":authority", "dup"}, {":status", "200"}, {"content-length", "0"}, {"expect", "100-continue"},
		{"x-a", "1"}, {"x-a", "2"}, {"accept", ""}, {"x-bad", "a\x01"}, {"content-length", "x"}}
	endedSet := map[uint32]bool{}
	note := func(id uint32, end bool) {
		if !slices.Contains(opened, id) {
			opened = append(opened, id)
		}
		if end {
			endedSet[id] = true
		}
	}
	// racy: a stream the client ended, then sent more on — the stream
	// error that earns (STREAM_CLOSED) races its answer on any server.
	racy := map[uint32]bool{}
	used := map[uint32]bool{}
	for n := 0; i < len(data) && n < 64; n++ {
		op := next() % 10
		id := ids[next()%8]
		if endedSet[id] && op != 4 && op != 7 && op != 3 && op != 5 && op != 6 {
			racy[id] = true
		}
		if (op <= 1 || op == 9) && used[id] && (endedSet[id] || !slices.Contains(opened, id)) {
			// A stream ID used again after its stream ended: RFC 9113
			// §5.1.1 makes it a connection error, which net/http raises
			// or not depending on whether its RST_STREAM was written yet
			// (and never when its Framer refused the first block).
			lax = true
		}
		used[id] = true
		switch op {
		case 0, 1, 9: // a request (or trailers when op is 9)
			hb.Reset()
			if op != 9 {
				m := methods[next()%6]
				if m != "" {
					_ = enc.WriteField(hpack.HeaderField{Name: ":method", Value: m})
				}
				_ = enc.WriteField(hpack.HeaderField{Name: ":scheme", Value: "https"})
				if p := paths[next()%7]; p != "" || next()&1 == 0 {
					_ = enc.WriteField(hpack.HeaderField{Name: ":path", Value: p})
				}
				_ = enc.WriteField(hpack.HeaderField{Name: ":authority", Value: "localhost"})
			}
			for k := int(next() % 4); k > 0; k-- {
				e := extras[int(next())%len(extras)]
				_ = enc.WriteField(hpack.HeaderField{Name: e[0], Value: e[1]})
			}
			flags := next()
			block := hb.Bytes()
			end := flags&1 != 0 || op == 9
			if flags&2 != 0 && len(block) > 1 {
				cut := 1 + int(flags>>2)%(len(block)-1)
				_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block[:cut], EndStream: end})
				_ = fr.WriteContinuation(id, true, block[cut:])
			} else {
				_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndStream: end, EndHeaders: true})
			}
			if id != 0 && id%2 == 1 {
				note(id, end)
			}
		case 2:
			b := next()
			payload := bytes.Repeat([]byte("d"), int(b%20))
			end := b&0x80 != 0
			if b&0x40 != 0 {
				_ = fr.WriteDataPadded(id, end, payload, make([]byte, b%3))
			} else {
				_ = fr.WriteData(id, end, payload)
			}
			if end && id%2 == 1 {
				note(id, true)
			}
		case 3:
			_ = fr.WriteRSTStream(id, http2.ErrCode(next()%14))
			delete(endedSet, id)
			opened = slices.DeleteFunc(opened, func(x uint32) bool { return x == id })
		case 4:
			inc := []uint32{0, 1, 1000, 65535, 1 << 30, 1<<31 - 1}[next()%6]
			_ = fr.WriteWindowUpdate(id, inc)
		case 5:
			val := []uint32{0, 1, 16384, 65535, 1 << 24, 1<<31 - 1, 1 << 31}[next()%7]
			_ = fr.WriteSettings(http2.Setting{ID: http2.SettingID(next() % 8), Val: val})
		case 6:
			_ = fr.WritePing(next()&1 == 1, [8]byte{1})
		case 7:
			dep := id
			if next()&1 == 0 {
				dep = 0
			}
			if dep == id && endedSet[id] {
				racy[id] = true // a stream error on an answered stream
			}
			_ = fr.WritePriority(max(id, 1), http2.PriorityParam{StreamDep: dep, Weight: 16})
		case 8:
			typ := http2.FrameType(next() % 12)
			if typ == http2.FrameGoAway {
				lax = true // the server may just close
			}
			flags := http2.Flags(next())
			payload := make([]byte, int(next()%16))
			for j := range payload {
				payload[j] = next()
			}
			_ = fr.WriteRawFrame(typ, flags, id, payload)
		}
	}
	for _, id := range opened {
		if endedSet[id] && !racy[id] {
			ended = append(ended, id)
		}
	}
	// Streams left open are cancelled: their answers do not count.
	for _, id := range opened {
		if !endedSet[id] {
			_ = fr.WriteRSTStream(id, http2.ErrCodeCancel)
		}
	}
	return ended, opened, lax
}

// runTranscript plays data to serve (over net.Pipe, h2c with prior
// knowledge) and collects the answers to the streams the client ended.
func runTranscript(t testing.TB, data []byte, serve func(net.Conn)) transcript {
	cli, srv := net.Pipe()
	go serve(srv)
	// The server's goroutine is not waited for: net/http's lingers a
	// second after a connection error.
	defer cli.Close()
	_ = cli.SetDeadline(time.Now().Add(5 * time.Second))
	var out bytes.Buffer
	fr := http2.NewFramer(&out, nil)
	out.WriteString(http2.ClientPreface)
	_ = fr.WriteSettings()
	ended, _, lax := fuzzOps(data, fr)
	// A last PING: its ACK (or the connection's end) comes after the
	// server processed every frame before it.
	final := [8]byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	_ = fr.WritePing(false, final)
	acked := false
	tr := transcript{streams: map[uint32]*outcome{}, lax: lax}
	for _, id := range ended {
		tr.streams[id] = &outcome{}
	}
	go func() { _, _ = cli.Write(out.Bytes()) }()

	rfr := http2.NewFramer(io.Discard, cli)
	rfr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	rfr.MaxHeaderListSize = 1 << 20
	pending := len(ended)
	deadline := time.Now().Add(2 * time.Second)
	_ = cli.SetReadDeadline(deadline)
	for pending > 0 || !acked {
		f, err := rfr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if asStreamError(err, &se) {
				continue
			}
			if !acked {
				// Closed before answering every frame: refused.
				tr.connError = true
			}
			break
		}
		switch f := f.(type) {
		case *http2.PingFrame:
			if f.IsAck() && f.Data == final {
				acked = true
			}
		case *http2.GoAwayFrame:
			if f.ErrCode != http2.ErrCodeNo {
				tr.connError = true
				return tr // nothing more will be answered
			}
			acked = true // a server going away may not answer the PING
		case *http2.MetaHeadersFrame:
			o := tr.streams[f.StreamID]
			if o == nil || o.answered || o.refused {
				continue
			}
			if s := f.PseudoValue("status"); s != "" && s[0] != '1' {
				o.status = s
				for _, hf := range f.RegularFields() {
					switch hf.Name {
					case "content-type":
						o.ctype = hf.Value
					case "content-length":
						o.clen = hf.Value
					}
				}
			}
			if f.StreamEnded() {
				o.answered = true
				pending--
			}
		case *http2.DataFrame:
			o := tr.streams[f.StreamID]
			if o == nil || o.answered || o.refused {
				continue
			}
			o.body += string(f.Data())
			if f.StreamEnded() {
				o.answered = true
				pending--
			}
		case *http2.RSTStreamFrame:
			tr.sawReset = true
			o := tr.streams[f.StreamID]
			if o == nil || o.answered || o.refused {
				continue
			}
			// A final status then RST_STREAM: answered, then reset (a
			// malformed request's 400, RFC 9113 §8.1.1).
			o.answered = o.status != ""
			o.refused = !o.answered
			pending--
		}
	}
	return tr
}

func asStreamError(err error, se *http2.StreamError) bool {
	e, ok := err.(http2.StreamError)
	if ok {
		*se = e
	}
	return ok
}

// FuzzDifferential feeds a sequence of frames made from the input to
// edgefront's Server and to net/http's (x/net/http2.Server) serving the
// same handler, and compares what each stream the client completed got:
// the same response (status, content-type, content-length, body), or
// refused by both. After a connection error only what both answered is
// compared: net/http's handlers race its connection's end.
func FuzzDifferential(f *testing.F) {
	seeds := [][]byte{
		{0, 0, 0, 0, 0, 1},             // GET / END_STREAM
		{0, 1, 1, 1, 2, 0, 2, 0x83},    // POST, DATA 3 bytes END_STREAM
		{0, 0, 0, 1, 1, 0, 1},          // GET /a?b=c with content-length 3
		{0, 0, 0, 0, 1, 3, 1},          // connection header
		{0, 0, 3, 0, 0, 1},             // CONNECT
		{0, 0, 0, 0, 2, 4, 5, 1},       // cookies
		{5, 6, 4, 0, 0, 0, 0, 0, 1},    // SETTINGS then GET
		{0, 0, 0, 0, 0, 2, 3, 0, 8},    // GET split over CONTINUATION, then RST
		{8, 1, 1, 0, 3, 1, 2, 3},       // raw frame
		{0, 1, 1, 1, 1, 8, 0, 9, 1, 1}, // POST, trailers
		{0, 0, 2, 1, 0, 1},             // HEAD
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ours := &Server{Handler: fuzzHandler{}, ErrorLog: discardLog(t)}
		theirs := &http2.Server{MaxConcurrentStreams: DefaultMaxConcurrentStreams, MaxReadFrameSize: 16384}
		base := &http.Server{MaxHeaderBytes: DefaultMaxHeaderBytes, ErrorLog: discardLog(t)}
		a := runTranscript(t, data, ours.ServeConn)
		b := runTranscript(t, data, func(c net.Conn) {
			theirs.ServeConn(c, &http2.ServeConnOpts{Handler: fuzzHandler{}, BaseConfig: base})
		})
		// After a stream the server refused, the client's frames on it
		// meet net/http's quirks: a block its Framer refused leaves the
		// stream idle to it (a later RST_STREAM or HEADERS there is a
		// connection error), one refused later stays known until its
		// RST_STREAM is written. Connection errors are compared only
		// without such refusals; streams answered always are.
		if a.connError != b.connError && !a.lax && !a.sawReset && !b.sawReset {
			t.Fatalf("connection error: edgefront %v, net/http %v", a.connError, b.connError)
		}
		for id, oa := range a.streams {
			ob := b.streams[id]
			both := oa.answered && ob.answered
			if (a.connError || b.connError || a.lax) && !both {
				continue
			}
			if oa.answered != ob.answered || both && *oa != *ob {
				t.Fatalf("stream %d:\nedgefront %+v\nnet/http  %+v", id, describe(oa), describe(ob))
			}
		}
	})
}

func describe(o *outcome) string {
	return fmt.Sprintf("answered=%v refused=%v status=%s type=%q len=%q body=%q", o.answered, o.refused,
		o.status, o.ctype, o.clen, strings.ReplaceAll(o.body, "\n", "|"))
}

// FuzzServeBytes feeds arbitrary bytes after the client preface to a
// Server answering through both ServeFast and ServeHTTP: it must not
// panic, and ServeConn must return once the client goes.
func FuzzServeBytes(f *testing.F) {
	var seed bytes.Buffer
	fr := http2.NewFramer(&seed, nil)
	_ = fr.WriteSettings()
	fuzzOps([]byte{0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 2, 0x83}, fr)
	f.Add(seed.Bytes())
	f.Add([]byte{0, 0, 0, 4, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &Server{Handler: fuzzHandler{}, ErrorLog: discardLog(t)}
		cli, srv := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.ServeConn(srv)
		}()
		go func() {
			_, _ = io.Copy(io.Discard, cli) // whatever the server says
		}()
		_ = cli.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = cli.Write([]byte(http2.ClientPreface))
		_, _ = cli.Write(data)
		cli.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("ServeConn did not return after the client closed")
		}
	})
}
