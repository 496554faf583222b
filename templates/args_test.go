package templates

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestArgsRoundTrip: ParseArgs reads back what Args writes, the flags in
// any order, and zero fields are left out.
func TestArgsRoundTrip(t *testing.T) {
	for _, opts := range []Options{
		{},
		{HTTPTimeout: 90 * time.Second, MaxBodyBytes: 1 << 20},
		{BaseDir: "/tmp/a dir/files", HTTPTimeout: time.Second, MaxBodyBytes: 5},
	} {
		args := Args(FileHandler, opts)
		name, got, err := ParseArgs(args)
		if err != nil || name != FileHandler || got != opts {
			t.Errorf("ParseArgs(%q) = %q %+v, %v; want %+v", args, name, got, err, opts)
		}
	}
	if got := Args(BasicCalculator, Options{}); !slices.Equal(got, []string{BasicCalculator}) {
		t.Errorf("Args with zero options = %q", got)
	}
	name, opts, err := ParseArgs([]string{WebScraper, "--max-body-bytes", "7", "-http-timeout=2s"})
	if err != nil || name != WebScraper || opts.MaxBodyBytes != 7 || opts.HTTPTimeout != 2*time.Second {
		t.Errorf("flags in another order: %q %+v, %v", name, opts, err)
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "usage: NAME"},
		{[]string{"--base-dir", "/x"}, "usage: NAME"},
		{[]string{BasicCalculator, "--verbose"}, "flag provided but not defined: -verbose"},
		{[]string{BasicCalculator, "--http-timeout", "soon"}, "invalid value"},
		{[]string{BasicCalculator, "extra"}, `unexpected argument "extra"`},
		{[]string{BasicCalculator, "--help"}, "usage: NAME"},
	} {
		_, _, err := ParseArgs(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), BasicCalculator) {
			t.Errorf("ParseArgs(%q) error = %v, want one containing %q and the names", c.args, err, c.want)
		}
	}
}
