package templates

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
)

// Args is the command line of a process that runs the built-in template
// name with opts: NAME, then a flag for every non-zero field of opts.
// ParseArgs reads it back. metamcp puts it after `metamcp-templates` or
// after `metamcp template run`, which run the same code.
func Args(name string, opts Options) []string {
	args := []string{name}
	if opts.HTTPTimeout > 0 {
		args = append(args, "--http-timeout", opts.HTTPTimeout.String())
	}
	if opts.MaxBodyBytes > 0 {
		args = append(args, "--max-body-bytes", strconv.FormatInt(opts.MaxBodyBytes, 10))
	}
	if opts.BaseDir != "" {
		args = append(args, "--base-dir", opts.BaseDir)
	}
	return args
}

// ParseArgs reads what Args writes: NAME followed by --base-dir,
// --http-timeout and --max-body-bytes in any order. Fields not given stay
// zero (Serve applies the defaults). The name is not checked here; Serve
// does that.
func ParseArgs(args []string) (name string, opts Options, err error) {
	usage := fmt.Errorf("usage: NAME [--base-dir DIR] [--http-timeout DURATION] [--max-body-bytes N]; NAME is one of %s", builtinNames())
	if len(args) == 0 || len(args[0]) == 0 || args[0][0] == '-' {
		return "", opts, usage
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&opts.BaseDir, "base-dir", "", "base directory of file_handler_template")
	fs.DurationVar(&opts.HTTPTimeout, "http-timeout", 0, "timeout of HTTP requests")
	fs.Int64Var(&opts.MaxBodyBytes, "max-body-bytes", 0, "largest HTTP body read")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", opts, usage
		}
		return "", opts, fmt.Errorf("%w; %w", err, usage)
	}
	if fs.NArg() > 0 {
		return "", opts, fmt.Errorf("unexpected argument %q; %w", fs.Arg(0), usage)
	}
	return args[0], opts, nil
}
