package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// envPrefix prefixes the environment variable of every flag: --mongo-uri
// is also JOURNEYS_MONGO_URI.
const envPrefix = "JOURNEYS_"

// envName returns the environment variable that sets flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// parseFlags parses args into fs, then fills every flag not given on the
// command line from its environment variable, so that flags win over the
// environment and both win over defaults.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: journeysd %s [flags]\n\nFlags (each also read from the environment variable shown):\n", fs.Name())
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(stderr, "  --%s (%s)\n    \t%s", f.Name, envName(f.Name), f.Usage)
			if f.DefValue != "" {
				fmt.Fprintf(stderr, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(stderr)
		})
	}
	fs.VisitAll(func(f *flag.Flag) { f.Value = withFormatHint(f.Value) })
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", envName(f.Name), e)
			}
		}
	})
	return err
}

// hinted wraps a flag value whose parse error would otherwise say only
// "parse error", so that the error names the expected format:
// `--callback-timeout 10` fails with "use a duration such as 10s".
type hinted struct {
	flag.Value
	format string
}

// withFormatHint wraps duration and integer flag values in hinted; other
// values (booleans in particular, which the flag package recognises by
// their type) are returned unchanged.
func withFormatHint(v flag.Value) flag.Value {
	g, ok := v.(flag.Getter)
	if !ok {
		return v
	}
	switch g.Get().(type) {
	case time.Duration:
		return hinted{v, "use a duration such as 10s, 1m30s or 24h (a number needs a unit: ns, us, ms, s, m, h)"}
	case int, int64, uint, uint64:
		return hinted{v, "use a whole number such as 16"}
	}
	return v
}

// Set implements flag.Value.
func (h hinted) Set(s string) error {
	if err := h.Value.Set(s); err != nil {
		return fmt.Errorf("%q is not valid: %s", s, h.format)
	}
	return nil
}
