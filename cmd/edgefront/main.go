// Command edgefront is a self-hosted edge cache that behaves like Amazon
// CloudFront: point it at a DistributionConfig and its origins, and it
// serves with CloudFront's cache behaviours, TTL rules and headers.
//
// Reading order for newcomers: this file (subcommands), serve.go (wiring:
// config → cache → proxy → listeners), then package proxy.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

const usage = `edgefront — a CloudFront-compatible edge cache you run yourself.

Usage:
  edgefront [serve] [flags]          run the edge (the default command)
  edgefront validate --config FILE   check a configuration; print every problem
  edgefront test-function --config FILE --name NAME --event-file EVENT
                                     run a CloudFront Function on a test event
  edgefront sign-url --url URL …     print a CloudFront signed URL (sign-url --help)
  edgefront sign-cookies --url URL … print CloudFront signed cookies (sign-cookies --help)
  edgefront version                  print the version

With no flags, edgefront serves its embedded demo: a distribution with an
in-process S3 bucket and a small API origin. Try it:

  go run ./cmd/edgefront
  curl -i http://127.0.0.1:8080/          # X-Cache: Miss from cloudfront
  curl -i http://127.0.0.1:8080/          # X-Cache: Hit from cloudfront

Run 'edgefront serve --help' for the serve flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args, stdout, stderr)
	case "validate":
		err = validate(args, stdout, stderr)
	case "test-function":
		err = testFunction(args, stdout, stderr)
	case "sign-url":
		err = signURL(args, stdout, stderr)
	case "sign-cookies":
		err = signCookies(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "edgefront", versionString())
	case "help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "edgefront: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errReported):
		return 1
	default:
		fmt.Fprintln(stderr, "edgefront:", err)
		return 1
	}
}

var (
	// errUsage: the command line was wrong; the flag package said why.
	errUsage = errors.New("usage")
	// errReported: the problem was already printed.
	errReported = errors.New("reported")
)

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// newFlagSet returns a flag set whose errors and help go to stderr.
func newFlagSet(name, help string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, help)
		printFlags(stderr, fs)
	}
	return fs
}

// printFlags lists the flags as this help writes them: "--name VALUE", the
// usage on the next line, the default when there is one.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s %s\n      %s", f.Name, arg, usage)
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}
