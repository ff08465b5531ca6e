package h2
import ("testing";"net";"os";"strings";"strconv";"time";"path/filepath";"golang.org/x/net/http2";"net/http")
func TestTimeCorpus(t *testing.T){
	files, _ := filepath.Glob(os.Getenv("D")+"/*")
	for _, fn := range files {
	in, _ := os.ReadFile(fn)
	line := strings.Split(string(in), "\n")[1]
	uq, _ := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(line, "[]byte("), ")"))
	data := []byte(uq)
		ours := &Server{Handler: fuzzHandler{}, ErrorLog: discardLog(t)}
		theirs := &http2.Server{MaxConcurrentStreams: DefaultMaxConcurrentStreams, MaxReadFrameSize: 16384}
		base := &http.Server{MaxHeaderBytes: DefaultMaxHeaderBytes, ErrorLog: discardLog(t)}
		s := time.Now()
		runTranscript(t, data, ours.ServeConn)
		d1 := time.Since(s); s = time.Now()
		runTranscript(t, data, func(c net.Conn) {
			theirs.ServeConn(c, &http2.ServeConnOpts{Handler: fuzzHandler{}, BaseConfig: base})
		})
		d2 := time.Since(s)
		if d1 > 100*time.Millisecond || d2 > 100*time.Millisecond { t.Logf("%s %q ours %v theirs %v", filepath.Base(fn), data, d1, d2) }
	}
}
