package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress keeps one live status line on stderr, rewritten with \r:
//
//	hit-1k rep 2/3 edgefront [=====     ] 5.1s 41,230 req/s
//
// Finished runs are printed above it as ordinary lines.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	start time.Time
	dur   time.Duration // >0: draw a bar
	extra func() string
	width int // of the line last drawn
	stop  chan struct{}
	done  chan struct{}
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer close(p.done)
	tk := time.NewTicker(250 * time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tk.C:
			p.mu.Lock()
			p.draw()
			p.mu.Unlock()
		}
	}
}

// set shows a new activity; dur > 0 draws a bar over that time; extra (may
// be nil) adds a live figure.
func (p *progress) set(label string, dur time.Duration, extra func() string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.label, p.start, p.dur, p.extra = label, time.Now(), dur, extra
	p.draw()
}

// logf prints a finished line above the live one.
func (p *progress) logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintf(p.w, format+"\n", args...)
	p.draw()
}

func (p *progress) clear() {
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
		p.width = 0
	}
}

func (p *progress) draw() {
	if p.label == "" {
		p.clear()
		return
	}
	el := time.Since(p.start)
	line := p.label
	if p.dur > 0 {
		const n = 10
		k := min(n, int(float64(n)*el.Seconds()/p.dur.Seconds()))
		line += " [" + strings.Repeat("=", k) + strings.Repeat(" ", n-k) + "]"
	}
	line += fmt.Sprintf(" %.1fs", el.Seconds())
	if p.extra != nil {
		if x := p.extra(); x != "" {
			line += " " + x
		}
	}
	pad := ""
	if len(line) < p.width {
		pad = strings.Repeat(" ", p.width-len(line))
	}
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
	p.width = len(line)
}

func (p *progress) close() {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	p.clear()
	p.mu.Unlock()
}
