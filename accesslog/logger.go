package accesslog

import (
	"io"
	"sync"
	"sync/atomic"
)

// DefaultQueue is the number of records a Logger holds before it drops.
const DefaultQueue = 8192

// maxBatch bounds the bytes one write gathers from queued records.
const maxBatch = 64 << 10

// Options configure a Logger.
type Options struct {
	Format  Format      // Standard (default) or JSON
	Queue   int         // records held while the writer is busy; DefaultQueue when 0
	OnError func(error) // called from the writing goroutine when a write fails; may be nil
}

// Logger writes access log records from one goroutine. Its methods are
// safe for concurrent use.
type Logger struct {
	w       io.Writer
	opts    Options
	records chan Record
	quit    chan struct{}
	done    chan struct{}
	closed  atomic.Bool
	dropped atomic.Uint64
	once    sync.Once
}

// New returns a Logger writing to w and starts its writing goroutine. With
// the Standard format the header lines are written first; a *File writes
// them again at the top of every new file.
func New(w io.Writer, opts Options) *Logger {
	if opts.Queue <= 0 {
		opts.Queue = DefaultQueue
	}
	l := &Logger{
		w: w, opts: opts,
		records: make(chan Record, opts.Queue),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	var hdr []byte
	if opts.Format == Standard {
		hdr = header()
	}
	if f, ok := w.(*File); ok {
		f.setHeader(hdr)
	} else if hdr != nil {
		l.write(hdr)
	}
	go l.run()
	return l
}

// Log queues a copy of r and returns at once. When the queue is full, or
// the Logger is closed, r is dropped and counted in Dropped.
func (l *Logger) Log(r *Record) {
	if l.closed.Load() {
		l.dropped.Add(1)
		return
	}
	select {
	case l.records <- *r:
	default:
		l.dropped.Add(1)
	}
}

// Dropped returns how many records were dropped since New.
func (l *Logger) Dropped() uint64 { return l.dropped.Load() }

// Reopen closes and reopens the log file when the Logger writes to a
// *File (after an external rotation, on SIGHUP); otherwise it does nothing.
func (l *Logger) Reopen() error {
	if f, ok := l.w.(*File); ok {
		return f.Reopen()
	}
	return nil
}

// Close writes the records still queued and stops the writing goroutine;
// it closes the writer when that is a *File. Later records are dropped.
func (l *Logger) Close() error {
	l.once.Do(func() {
		l.closed.Store(true)
		close(l.quit)
	})
	<-l.done
	if f, ok := l.w.(*File); ok {
		return f.Close()
	}
	return nil
}

func (l *Logger) run() {
	defer close(l.done)
	buf := make([]byte, 0, maxBatch+4096)
	for {
		select {
		case r := <-l.records:
			buf = l.batch(l.appendRecord(buf[:0], &r))
			l.write(buf)
		case <-l.quit:
			for {
				select {
				case r := <-l.records:
					buf = l.batch(l.appendRecord(buf[:0], &r))
					l.write(buf)
				default:
					return
				}
			}
		}
	}
}

// batch appends the records already queued, up to maxBatch bytes.
func (l *Logger) batch(buf []byte) []byte {
	for len(buf) < maxBatch {
		select {
		case r := <-l.records:
			buf = l.appendRecord(buf, &r)
		default:
			return buf
		}
	}
	return buf
}

func (l *Logger) appendRecord(b []byte, r *Record) []byte {
	if l.opts.Format == JSON {
		return AppendJSON(b, r)
	}
	return AppendStandard(b, r)
}

func (l *Logger) write(b []byte) {
	if _, err := l.w.Write(b); err != nil && l.opts.OnError != nil {
		l.opts.OnError(err)
	}
}
