package accesslog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read after the Logger closed and to
// write from the Logger's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func fullRecord() *Record {
	return &Record{
		Time:               time.Date(2019, 12, 4, 21, 2, 31, 0, time.FixedZone("CET", 3600)),
		EdgeLocation:       "LOCAL1-C1",
		BytesSent:          392,
		BytesReceived:      387,
		ClientIP:           netip.MustParseAddr("127.0.0.1"),
		ClientPort:         53618,
		Method:             "GET",
		Host:               "d111111abcdef8.cloudfront.net",
		HostHeader:         "www.example.com",
		URIStem:            "/index.html",
		URIQuery:           "a=1&b=2",
		Status:             200,
		Referer:            "https://www.example.com/",
		UserAgent:          "curl/7.64.1",
		Cookie:             "session=abc",
		ResultType:         Hit,
		ResponseResultType: Hit,
		RequestID:          "nBkClyGGl3ySxOZ3d_kUR9jK7FhXT9zz0yk2hEbj_eDT0cFbc5Vw==",
		Protocol:           "https",
		ProtocolVersion:    "HTTP/2.0",
		TLSProtocol:        "TLSv1.3",
		TLSCipher:          "TLS_AES_128_GCM_SHA256",
		TimeTaken:          82 * time.Millisecond,
		TimeToFirstByte:    1500 * time.Microsecond,
		ContentType:        "text/html",
		ContentLength:      78,
		Ranged:             true,
		RangeStart:         0,
		RangeEnd:           77,
	}
}

// parseStandard splits a standard log into its header fields and its lines'
// values keyed by field name, checking the header and every line's width.
func parseStandard(t *testing.T, log string) []map[string]string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(log))
	var fields []string
	var rows []map[string]string
	for n := 0; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case n == 0:
			if line != "#Version: 1.0" {
				t.Fatalf("line 1 = %q, want #Version: 1.0", line)
			}
		case n == 1:
			rest, ok := strings.CutPrefix(line, "#Fields: ")
			if !ok {
				t.Fatalf("line 2 = %q, want #Fields: …", line)
			}
			fields = strings.Split(rest, " ")
		default:
			vals := strings.Split(line, "\t")
			if len(vals) != len(fields) {
				t.Fatalf("line %d has %d tab-separated values, want %d: %q", n+1, len(vals), len(fields), line)
			}
			row := map[string]string{}
			for i, f := range fields {
				row[f] = vals[i]
			}
			rows = append(rows, row)
		}
	}
	if !slices.Equal(fields, Fields()) {
		t.Fatalf("#Fields = %v, want %v", fields, Fields())
	}
	return rows
}

// TestStandardLineFieldByField writes records through a Logger and parses
// the output field by field against CloudFront's field list.
func TestStandardLineFieldByField(t *testing.T) {
	if n := len(Fields()); n != 33 {
		t.Fatalf("CloudFront's standard log has 33 fields, Fields() has %d", n)
	}
	sparse := &Record{
		Time: time.Date(2024, 2, 29, 23, 59, 59, 999e6, time.UTC), Method: "POST",
		Host: "d111111abcdef8.cloudfront.net", URIStem: "/api", ResultType: Error,
		DetailedResultType: OriginConnectError, ContentLength: -1, TimeTaken: 30 * time.Second,
		ClientIP: netip.MustParseAddr("::1"),
	}
	tests := []struct {
		name string
		rec  *Record
		want map[string]string
	}{
		{"full", fullRecord(), map[string]string{
			"date": "2019-12-04", "time": "20:02:31", "x-edge-location": "LOCAL1-C1",
			"sc-bytes": "392", "c-ip": "127.0.0.1", "cs-method": "GET",
			"cs(Host)": "d111111abcdef8.cloudfront.net", "cs-uri-stem": "/index.html",
			"sc-status": "200", "cs(Referer)": "https://www.example.com/", "cs(User-Agent)": "curl/7.64.1",
			"cs-uri-query": "a=1&b=2", "cs(Cookie)": "session=abc", "x-edge-result-type": "Hit",
			"x-edge-request-id": "nBkClyGGl3ySxOZ3d_kUR9jK7FhXT9zz0yk2hEbj_eDT0cFbc5Vw==",
			"x-host-header":     "www.example.com", "cs-protocol": "https", "cs-bytes": "387",
			"time-taken": "0.082", "x-forwarded-for": "-", "ssl-protocol": "TLSv1.3",
			"ssl-cipher": "TLS_AES_128_GCM_SHA256", "x-edge-response-result-type": "Hit",
			"cs-protocol-version": "HTTP/2.0", "fle-status": "-", "fle-encrypted-fields": "-",
			"c-port": "53618", "time-to-first-byte": "0.002", "x-edge-detailed-result-type": "Hit",
			"sc-content-type": "text/html", "sc-content-len": "78", "sc-range-start": "0", "sc-range-end": "77",
		}},
		{"sparse", sparse, map[string]string{
			"date": "2024-02-29", "time": "23:59:59", "x-edge-location": "-", "sc-bytes": "0",
			"c-ip": "::1", "cs-method": "POST", "cs-uri-stem": "/api", "sc-status": "000",
			"cs(Referer)": "-", "cs(User-Agent)": "-", "cs-uri-query": "-", "cs(Cookie)": "-",
			"x-edge-result-type": "Error", "x-edge-request-id": "-", "cs-protocol": "-",
			"time-taken": "30.000", "ssl-protocol": "-", "ssl-cipher": "-", "c-port": "-",
			"time-to-first-byte": "0.000", "x-edge-detailed-result-type": "OriginConnectError",
			"sc-content-type": "-", "sc-content-len": "-", "sc-range-start": "-", "sc-range-end": "-",
		}},
	}
	var out syncBuffer
	l := New(&out, Options{})
	for _, tt := range tests {
		l.Log(tt.rec)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rows := parseStandard(t, out.String())
	if len(rows) != len(tests) {
		t.Fatalf("%d lines, want %d:\n%s", len(rows), len(tests), out.String())
	}
	for i, tt := range tests {
		for f, want := range tt.want {
			if got := rows[i][f]; got != want {
				t.Errorf("%s: %s = %q, want %q", tt.name, f, got, want)
			}
		}
	}
}

func TestEscaping(t *testing.T) {
	tests := []struct {
		name  string
		rec   Record
		field string
		want  string
	}{
		{"UA spaces", Record{UserAgent: "Mozilla/5.0 (X11; Linux x86_64)"}, "cs(User-Agent)", "Mozilla/5.0%20(X11;%20Linux%20x86_64)"},
		{"UA tab and newline", Record{UserAgent: "a\tb\nc"}, "cs(User-Agent)", "a%09b%0Ac"},
		{"UA non-ASCII", Record{UserAgent: "café"}, "cs(User-Agent)", "caf%C3%A9"},
		{"UA DEL", Record{UserAgent: "x\x7f"}, "cs(User-Agent)", "x%7F"},
		{"query already encoded", Record{URIQuery: "q=a%20b&c=d"}, "cs-uri-query", "q=a%2520b&c=d"},
		{"query raw space", Record{URIQuery: "q=a b"}, "cs-uri-query", "q=a%20b"},
		{"query non-ASCII", Record{URIQuery: "q=ü"}, "cs-uri-query", "q=%C3%BC"},
		{"referer", Record{Referer: "https://example.com/a b?x=ä"}, "cs(Referer)", "https://example.com/a%20b?x=%C3%A4"},
		{"cookie", Record{Cookie: "a=1; b=2"}, "cs(Cookie)", "a=1;%20b=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := string(AppendStandard(nil, &tt.rec))
			if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
				t.Fatalf("line %q is not exactly one line", line)
			}
			vals := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
			if len(vals) != 33 {
				t.Fatalf("%d values, want 33: %q", len(vals), line)
			}
			if got := vals[slices.Index(Fields(), tt.field)]; got != tt.want {
				t.Errorf("%s = %q, want %q", tt.field, got, tt.want)
			}
		})
	}
}

// blockingWriter blocks every Write until released.
type blockingWriter struct {
	release chan struct{}
	entered chan struct{}
	once    sync.Once
	mu      sync.Mutex
	lines   int
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	w.mu.Lock()
	w.lines += bytes.Count(p, []byte("\n"))
	w.mu.Unlock()
	return len(p), nil
}

func TestLogNeverBlocksAndCountsDrops(t *testing.T) {
	w := &blockingWriter{release: make(chan struct{}), entered: make(chan struct{})}
	const queue, total = 4, 1000
	l := New(w, Options{Format: JSON, Queue: queue})
	rec := fullRecord()
	l.Log(rec)
	<-w.entered // the writer goroutine now holds one batch and is stuck in Write

	start := time.Now()
	for range total {
		l.Log(rec)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("%d Log calls against a blocked writer took %v", total, took)
	}
	if got, want := l.Dropped(), uint64(total-queue); got != want {
		t.Errorf("Dropped() = %d, want %d (queue %d of %d records)", got, want, queue, total)
	}
	close(w.release)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := w.lines, 1+total-int(l.Dropped()); got != want {
		t.Errorf("%d lines written, want %d", got, want)
	}
	l.Log(rec) // after Close: dropped, never a panic
	if got, want := l.Dropped(), uint64(total-queue+1); got != want {
		t.Errorf("Dropped() after Close = %d, want %d", got, want)
	}
}

func TestJSONLines(t *testing.T) {
	var out syncBuffer
	l := New(&out, Options{Format: JSON})
	r := fullRecord()
	r.UserAgent = "Mozilla/5.0 \"quoted\" \\ café\x01"
	l.Log(r)
	l.Log(&Record{Time: time.Unix(1607545339, 456e6), ContentLength: -1})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2 (no header in JSON):\n%s", len(lines), out.String())
	}
	// Keys in order are the real-time log field names.
	dec := json.NewDecoder(strings.NewReader(lines[0]))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(keys, RealtimeFields()) {
		t.Errorf("keys = %v\nwant %v", keys, RealtimeFields())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("line is not JSON: %v\n%s", err, lines[0])
	}
	want := map[string]any{
		"timestamp": 1575489751.0, "c-ip": "127.0.0.1", "c-ip-version": "IPv4", "sc-status": 200.0,
		"cs-user-agent": "Mozilla/5.0 \"quoted\" \\ café\x01", "time-taken": 0.082,
		"sc-content-len": 78.0, "sc-range-end": 77.0, "fle-status": nil, "c-port": 53618.0,
		"x-edge-detailed-result-type": "Hit", "cs-host": "d111111abcdef8.cloudfront.net",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	var sparse map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &sparse); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"timestamp": 1607545339.456, "c-ip": nil, "cs-method": nil, "sc-content-len": nil, "sc-range-start": nil} {
		if sparse[k] != v {
			t.Errorf("sparse %s = %#v, want %#v", k, sparse[k], v)
		}
	}
}

func TestFileRotationBySize(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	f, err := OpenFile(path, 2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	f.now = func() time.Time { return clock } // every rotation in the same second: .1, .2 suffixes
	l := New(f, Options{Queue: 1 << 12})
	line := len(AppendStandard(nil, fullRecord()))
	perFile := (2048 - len(header())) / line
	total := perFile*5 + 1 // five full files and one line in the current one
	for range total {
		l.Log(fullRecord())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Dropped() != 0 {
		t.Fatalf("dropped %d records", l.Dropped())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// Rotations: base, .1, .2, .3, .4; Keep 2 leaves the two newest.
	want := []string{"access.log", "access.log.2025-01-02-03-04-05.3", "access.log.2025-01-02-03-04-05.4"}
	if !slices.Equal(names, want) {
		t.Fatalf("files = %v, want %v", names, want)
	}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 2048 {
			t.Errorf("%s is %d bytes, more than the 2048 maximum", n, len(data))
		}
		rows := parseStandard(t, string(data)) // every file starts with the header
		wantRows := perFile
		if n == "access.log" {
			wantRows = 1
		}
		if len(rows) != wantRows {
			t.Errorf("%s has %d lines, want %d", n, len(rows), wantRows)
		}
	}
}

func TestFileReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	f, err := OpenFile(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	l := New(f, Options{})
	l.Log(fullRecord())
	waitForLines(t, path, 1)
	if err := os.Rename(path, path+".moved"); err != nil { // an external logrotate
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Log(fullRecord())
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{path, path + ".moved"} {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		if rows := parseStandard(t, string(data)); len(rows) != 1 {
			t.Errorf("%s has %d lines, want 1", n, len(rows))
		}
	}
}

func waitForLines(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(path)
		if bytes.Count(data, []byte("\n")) >= 2+n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s did not reach %d lines", path, n)
}

func BenchmarkLog(b *testing.B) {
	for _, tt := range []struct {
		name   string
		format Format
	}{{"standard", Standard}, {"json", JSON}} {
		b.Run(tt.name, func(b *testing.B) {
			l := New(io.Discard, Options{Format: tt.format, Queue: 1 << 16})
			r := fullRecord()
			r.UserAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15"
			b.ReportAllocs()
			for b.Loop() {
				l.Log(r)
			}
			b.StopTimer()
			l.Close()
			b.ReportMetric(float64(l.Dropped())/float64(b.N), "drops/op")
		})
	}
}

func BenchmarkFormat(b *testing.B) {
	r := fullRecord()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendStandard(buf[:0], r)
	}
}
