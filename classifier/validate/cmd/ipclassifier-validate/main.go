// Command ipclassifier-validate measures the engine's labels against truth
// as a spec says (package validate) and prints the outcome as JSON. It is
// the evaluation harness as a program of its own, so the library a host
// loads carries none of it; the Python `ipclassifier validate` command runs
// it.
//
//	ipclassifier-validate [-config FILE] [-refresh] SPEC
//
// SPEC is a JSON file holding a validate.Spec, or - for standard input.
// A spec that measures the caller's engine (labelled CSVs, samplers) opens
// one from the JSON configuration in -config (classifier.Config; without
// it, the defaults and the environment): the data directory's snapshots
// and cache tiers, as the library would. -refresh refreshes its sources
// first (failures are reported on standard error; the previous data stays
// in use). A real-data folder or AS-name runs alone need no engine: no data
// directory is opened, and -refresh is ignored with a warning.
//
// Exit status: 0 measured (targets missed are in the outcome's
// targets_missed); 1 the measurement failed; 2 a usage or spec error (an
// unreadable file the spec names included). Errors go to standard error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/validate"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// usageError is an error of the command line or the spec: exit status 2.
type usageError struct{ error }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := measure(args, stdin, stdout, stderr)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "ipclassifier-validate:", err)
	var u usageError
	if errors.As(err, &u) || validate.IsSpecError(err) {
		return 2
	}
	return 1
}

func measure(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ipclassifier-validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "engine configuration `FILE` (JSON, classifier.Config)")
	refresh := fs.Bool("refresh", false, "refresh the engine's sources before measuring")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ipclassifier-validate [-config FILE] [-refresh] SPEC.json|-")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError{errors.New("want one spec file (or -)")}
	}
	specData, err := readArg(fs.Arg(0), stdin)
	if err != nil {
		return usageError{fmt.Errorf("spec: %w", err)}
	}
	spec, err := validate.ParseSpec(specData)
	if err != nil {
		return err
	}
	ctx := context.Background()
	var e *classifier.Engine
	if spec.NeedsEngine() {
		if e, err = openEngine(ctx, *configPath, *refresh, stderr); err != nil {
			return err
		}
		defer e.Close()
	} else if *refresh {
		fmt.Fprintln(stderr, "warning: -refresh ignored: the spec needs no engine of yours (real data or AS names alone)")
	}
	outcome, err := validate.Run(ctx, e, spec)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(outcome); err != nil {
		return fmt.Errorf("write outcome: %w", err)
	}
	return nil
}

// openEngine opens the engine the configuration at path describes ("" =
// defaults), refreshed first when asked.
func openEngine(ctx context.Context, path string, refresh bool, stderr io.Writer) (*classifier.Engine, error) {
	var data []byte
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, usageError{fmt.Errorf("config: %w", err)}
		}
	}
	cfg, err := classifier.ParseConfig(data)
	if err != nil {
		return nil, usageError{err}
	}
	cfg.AutoRefresh = false // a measurement holds its data still: -refresh refreshes once, first
	e, err := classifier.Open(cfg)
	if err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	if !refresh {
		return e, nil
	}
	rep, err := e.Refresh(ctx, classifier.GroupAll, false)
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("refresh: %w", err)
	}
	for _, s := range rep.Sources {
		if s.Status == classifier.StatusFailed {
			fmt.Fprintf(stderr, "warning: refresh of %s failed: %s\n", s.Source, s.Error)
		}
	}
	return e, nil
}

func readArg(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}
