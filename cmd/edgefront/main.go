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

// version and revision are set at build time with -ldflags
// "-X main.version=… -X main.revision=…" where Go records no module version
// or VCS revision (a build outside a git checkout, such as a Docker context
// without .git).
var version, revision string

const usage = `edgefront — a CloudFront-compatible edge cache you run yourself.

Usage:
  edgefront [serve] [flags]          run the edge (the default command)
  edgefront validate --config FILE   check a configuration (settings, DistributionConfig,
                                     CloudFormation/CDK template); print every problem
  edgefront test-function --config FILE --name NAME --event-file EVENT
                                     run a CloudFront Function on a test event
  edgefront sign-url --url URL …     print a CloudFront signed URL (sign-url --help)
  edgefront sign-cookies --url URL … print CloudFront signed cookies (sign-cookies --help)
  edgefront cluster status [--admin ADDR]
                                     print a node's view of its cluster: members, ring,
                                     replication lag, configuration revision
  edgefront version                  print the version and the revision it was built from

With no flags, edgefront serves its embedded demo: a distribution with an
in-process S3 bucket and a small API origin. Try it:

  go run ./cmd/edgefront
  curl -i http://127.0.0.1:8080/          # X-Cache: Miss from cloudfront
  curl -i http://127.0.0.1:8080/          # X-Cache: Hit from cloudfront

'edgefront COMMAND --help' explains a command. The serve command's flags
('edgefront serve --help' says more):
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	} else if len(args) == 1 && isHelp(args[0]) {
		cmd = "help" // edgefront --help: the commands, then serve's flags
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
	case "cluster":
		err = clusterCommand(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "edgefront", versionString())
	case "help":
		fmt.Fprint(stdout, usage)
		var f serveFlags
		printFlags(stdout, serveFlagSet(&f, stdout, stderr).FlagSet)
	default:
		fmt.Fprintf(stderr, "edgefront: unknown command %q\nRun 'edgefront --help' for the commands.\n", cmd)
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

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "--h":
		return true
	}
	return false
}

var (
	// errUsage: the command line was wrong; the flag package said why.
	errUsage = errors.New("usage")
	// errReported: the problem was already printed.
	errReported = errors.New("reported")
)

// versionString is the version edgefront was built as (versionOf).
func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(bi, version, revision)
}

// versionOf is the version a build describes: the -ldflags version, else
// the module version Go recorded ("(devel)" for a build from a checkout),
// then the VCS revision Go recorded (go build -buildvcs, the default in a
// git checkout; "+dirty" for uncommitted changes), else the -ldflags one.
func versionOf(bi *debug.BuildInfo, ldVersion, ldRevision string) string {
	v, rev, dirty := ldVersion, "", ""
	if bi != nil {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	if rev == "" {
		rev = ldRevision
	}
	if rev != "" {
		v += " " + rev + dirty
	}
	return v
}

// flagSet is a command's flags with its help text: help (--help) goes to
// stdout; a wrong command line gets one line and a hint on stderr.
type flagSet struct {
	*flag.FlagSet
	help   string
	stdout io.Writer
}

// newFlagSet returns a command's flag set: errors go to stderr with a hint
// to run --help, which prints help and the flags to stdout.
func newFlagSet(name, help string, stdout, stderr io.Writer) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Run 'edgefront %s --help' for usage.\n", name)
	}
	return &flagSet{FlagSet: fs, help: help, stdout: stdout}
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

// parseFlags parses args: --help prints the help to stdout (flag.ErrHelp);
// a wrong flag or value is one line and a hint on stderr (errUsage).
func parseFlags(fs *flagSet, args []string) error {
	hint := fs.Usage
	fs.Usage = func() {} // the flag package would call it for --help too
	err := fs.Parse(args)
	fs.Usage = hint
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(fs.stdout, fs.help)
			printFlags(fs.stdout, fs.FlagSet)
			return err
		}
		fs.Usage()
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "edgefront %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}
