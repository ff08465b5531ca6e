package h2
import ("testing";"net";"bytes";"io";"time";"os";"strings";"strconv";"golang.org/x/net/http2";"net/http")
func TestDebugSeq(t *testing.T){
	in, _ := os.ReadFile(os.Getenv("F"))
	line := strings.Split(string(in), "\n")[1]
	uq, _ := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(line, "[]byte("), ")"))
	data := []byte(uq)
	t.Logf("%q", data)
	for _, which := range []string{"ours","theirs"} {
	cli, srv := net.Pipe()
	if which=="ours" { ours := &Server{Handler: fuzzHandler{}, ErrorLog: discardLog(t)}; go ours.ServeConn(srv) } else {
		theirs := &http2.Server{MaxConcurrentStreams: 100, MaxReadFrameSize: 16384}
		go theirs.ServeConn(srv, &http2.ServeConnOpts{Handler: fuzzHandler{}, BaseConfig: &http.Server{MaxHeaderBytes: 64<<10}})
	}
	var out bytes.Buffer
	fr := http2.NewFramer(&out, nil)
	out.WriteString(http2.ClientPreface)
	_ = fr.WriteSettings()
	_, _, _ = fuzzOps(data, fr)
	_ = fr.WritePing(false, [8]byte{0xee})
	go cli.Write(out.Bytes())
	cli.SetReadDeadline(time.Now().Add(1500*time.Millisecond))
	rfr := http2.NewFramer(io.Discard, cli)
	for { f, err := rfr.ReadFrame(); if err != nil { t.Log(which, err); break }; t.Logf("%s %v", which, f); if g, ok := f.(*http2.GoAwayFrame); ok { t.Logf("%s", g.DebugData()) } }
	}
}
