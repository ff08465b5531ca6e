package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/demo"
	edgecode "github.com/edgefront/edgefront/edge"
)

const testFunctionHelp = `Usage: edgefront test-function [--config FILE] --name NAME --event-file EVENT

Runs the CloudFront Function NAME of the configuration FILE (without
--config: the embedded demo's, whose function is demo-site) on the test
event in EVENT (the documented event object as JSON; context.eventType
viewer-request or viewer-response), offline, as 'aws cloudfront
test-function' does, and prints its TestResult as JSON: FunctionOutput,
ComputeUtilization, FunctionExecutionLogs and FunctionErrorMessage. Exits 1
when the function failed.

Flags:
`

func testFunction(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("test-function", testFunctionHelp, stdout, stderr)
	file := fs.String("config", "", "configuration `FILE` (default: the embedded demo's)")
	name := fs.String("name", "", "the function's `NAME` (required)")
	eventFile := fs.String("event-file", "", "the test event, a JSON `FILE` (required)")
	var params parameterFlag
	fs.Var(&params, "parameter", "a CloudFormation template's parameter `NAME=VALUE`; repeat for more")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" || *eventFile == "" {
		fmt.Fprintln(stderr, "edgefront test-function: --name and --event-file are required")
		fs.Usage()
		return errUsage
	}
	event, err := os.ReadFile(*eventFile)
	if err != nil {
		return fmt.Errorf("--event-file: %w", err)
	}
	cfg, err := testFunctionConfig(*file, params)
	if err != nil {
		var errs config.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(stderr, e)
			}
			return errReported
		}
		return err
	}
	var fn *config.Function
	var names []string
	for _, f := range cfg.Functions {
		names = append(names, f.Name)
		if f.Name == *name {
			fn = f
		}
	}
	if fn == nil {
		slices.Sort(names)
		where := *file
		if where == "" {
			where = "the embedded demo"
		}
		return fmt.Errorf("--name: %s has no function %q (functions: %v)", where, *name, names)
	}
	rt, err := edgecode.New(cfg, edgecode.Options{Idle: 1})
	if err != nil {
		return err
	}
	res, err := rt.Test(context.Background(), fn, event)
	if err != nil {
		return fmt.Errorf("--event-file %s: %w", *eventFile, err)
	}
	out := map[string]any{"TestResult": map[string]any{
		"FunctionSummary":       map[string]any{"Name": fn.Name, "FunctionConfig": map[string]any{"Runtime": fn.Runtime}, "FunctionMetadata": map[string]any{"FunctionARN": fn.ARN, "Stage": "LIVE"}},
		"ComputeUtilization":    strconv.Itoa(res.Utilization),
		"FunctionExecutionLogs": append([]string{}, res.Logs...),
		"FunctionErrorMessage":  res.ErrorMessage,
		"FunctionOutput":        res.Output,
	}}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "    ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	if res.ErrorMessage != "" {
		return errReported
	}
	return nil
}

// testFunctionConfig loads file, or the embedded demo's configuration when
// file is "" (its origins are started and stopped again: only the
// functions are wanted).
func testFunctionConfig(file string, params parameterFlag) (*config.Config, error) {
	if file != "" {
		return config.LoadWith(file, params.inputs())
	}
	d, err := demo.Start(context.Background())
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Config(config.Listen{})
}
