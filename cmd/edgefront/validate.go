package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/edgefront/edgefront/config"
	edgecode "github.com/edgefront/edgefront/edge"
)

const validateHelp = `Usage: edgefront validate --config FILE [--parameter NAME=VALUE …]

Reads FILE — edgefront settings, a DistributionConfig as
'aws cloudfront get-distribution-config' prints it, a CloudFormation/CDK
template as 'cdk synth' writes it (--parameter NAME=VALUE gives what only a
stack knows), a Terraform directory or .tf file, or 'terraform show -json'
output; JSON or YAML — and checks it as 'serve' would, with the checks
CloudFront's API makes. Prints every problem as 'file: field: reason' and exits 1,
or prints a summary and exits 0. Settings that are accepted but not emulated
(Lambda@Edge, WAF, field-level encryption …) are printed as warnings on
stderr, 'warning: file: field: reason'; they do not change the exit code.

Flags:
`

func validate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("validate", validateHelp, stdout, stderr)
	file := fs.String("config", "", "configuration `FILE` to check (required)")
	var params parameterFlag
	fs.Var(&params, "parameter", "a CloudFormation template's parameter (or pseudo parameter, or Fn::ImportValue export) or a Terraform variable `NAME=VALUE`; repeat for more")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		fmt.Fprintln(stderr, "edgefront validate: --config FILE is required")
		fs.Usage()
		return errUsage
	}
	cfg, err := config.LoadWith(*file, params.inputs())
	if err != nil {
		var errs config.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(stderr, e)
			}
			fmt.Fprintf(stderr, "%d problem(s) found\n", len(errs))
			return errReported
		}
		return err
	}
	// The functions' top-level code runs as serve would run it (it must
	// define handler).
	if _, err := edgecode.New(cfg, edgecode.Options{Idle: 1}); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", *file, err)
		return errReported
	}
	if ws := cfg.Warnings(); len(ws) > 0 {
		for _, w := range ws {
			fmt.Fprintln(stderr, "warning:", w)
		}
		fmt.Fprintf(stderr, "%d setting(s) accepted but not emulated\n", len(ws))
	}
	for _, d := range cfg.Distributions {
		fmt.Fprintf(stdout, "%s: distribution %s (%s): %d origin(s), %d cache behavior(s) + default\n",
			*file, d.ID, d.DomainName, len(d.Origins), len(d.Behaviors))
	}
	if n := len(cfg.Functions); n > 0 {
		fmt.Fprintf(stdout, "%s: %d CloudFront function(s), %d key value store(s)\n", *file, n, len(cfg.KeyValueStores))
	}
	fmt.Fprintf(stdout, "%s: ok\n", *file)
	return nil
}
