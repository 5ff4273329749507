package loadtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const commandUsage = `usage: shoal loadtest <command> [flags]

Load tests on vegeta's library: results, reports and plots are vegeta's and mix freely with
the vegeta CLI (go install github.com/tsenart/vegeta/v12@v12.13.0).

commands:
  attack   send load (vegeta targets or a Shoal scenario) and write vegeta results
  report   summarise results (gob, JSON or CSV): -type text|json|hist[0,1ms,5ms]|hdrplot
  plot     HTML latency-over-time plot of results

example:
  shoal loadtest attack -scenario zipf -base http://127.0.0.1:8080 -rate 2000 -duration 30s \
    -output zipf.bin && shoal loadtest report zipf.bin

Run "shoal loadtest <command> -h" for the flags of a command.
`

// Command runs "shoal loadtest ..." with args after "loadtest". Results and reports go to
// stdout unless -output names a file; usage and the purge storm's report go to stderr. A bad flag
// is an error naming it; -h prints usage and returns nil. Cancelling ctx stops an attack
// early; the results gathered so far are still written.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runCommand(ctx, args, os.Stdin, stdout, stderr)
}

// runCommand is Command with stdin injectable, since "-" means stdin for targets and inputs.
func runCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, commandUsage)
		return errors.New("loadtest: missing command: want attack, report or plot")
	}
	var err error
	switch args[0] {
	case "attack":
		err = runAttack(ctx, args[1:], stdin, stdout, stderr)
	case "report":
		err = runReport(args[1:], stdin, stdout, stderr)
	case "plot":
		err = runPlot(args[1:], stdin, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, commandUsage)
		return nil
	default:
		fmt.Fprint(stderr, commandUsage)
		return fmt.Errorf("loadtest: unknown command %q: want attack, report or plot", args[0])
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// newFlagSet returns a flag set that reports problems instead of exiting.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("shoal loadtest "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// openInput opens a file, "-" meaning stdin; the closer is a no-op for stdin.
func openInput(path string, stdin io.Reader) (io.Reader, func() error, error) {
	if path == "-" || path == "" {
		return stdin, func() error { return nil }, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

// openOutput creates a file, "-" meaning stdout.
func openOutput(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "-" || path == "" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}
