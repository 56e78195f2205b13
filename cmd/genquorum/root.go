package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// Exit statuses, mapped in one place (exitCode).
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitPartial     = 3
	exitInterrupted = 130
)

// globalOptions are the flags every subcommand shares, and the streams it writes to.
type globalOptions struct {
	logLevel  string
	logFormat string
	// cpuProfile, when set, is the file a CPU profile of the whole command is written to
	// (runtime/pprof, read with "go tool pprof").
	cpuProfile string
	stopProf   func() error

	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	logger *slog.Logger
}

// usageError marks an error caused by how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// partialError reports that some inputs failed (each already reported on stderr) while the
// others were processed.
type partialError struct{ failed, total int }

func (e partialError) Error() string {
	return fmt.Sprintf("%d of %d inputs failed", e.failed, e.total)
}

// newRootCommand wires every subcommand. Each subcommand has a constructor newXCommand(g) and a
// plain function runX that does the work and is tested directly.
func newRootCommand(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "genquorum",
		Short: "Reproducible, verifiable generative AI across untrusted machines",
		Long: `genquorum makes generative-AI work reproducible and verifiable across machines that do
not trust each other: outputs are compared by locality-sensitive fingerprints under a
tolerance, and a majority of randomly chosen verifiers decides.

Exit statuses: 0 success, 1 error, 2 bad usage, 3 some inputs failed, 130 interrupted.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			level := g.logLevel
			if f := cmd.Flag("log-level"); f != nil && !f.Changed && !logsInfo(cmd) {
				level = "warn" // a client command's INFO lines are noise next to its output
			}
			logger, err := newLogger(g.stderr, level, g.logFormat)
			if err != nil {
				return usageError{err}
			}
			g.logger = logger
			if err := g.startCPUProfile(); err != nil {
				return err
			}
			return checkWorkers(cmd)
		},
	}
	root.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	root.SetIn(g.stdin)
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error (client commands: warn unless given)")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof)")

	root.AddCommand(
		newVersionCommand(g),
		newDemoCommand(g),
		newTestnetCommand(g),
		newNodeCommand(g),
		newSubmitCommand(g),
		newTaskCommand(g),
		newFetchCommand(g),
		newBenchCommand(g),
		newConsensusCommand(g),
		newTokenizeCommand(g),
		newDetokenizeCommand(g),
		newHashCommand(g),
		newCompareCommand(g),
		newCollisionsCommand(g),
		newOddsCommand(g),
		newProfilesCommand(g),
		newGenerateCommand(g),
		newDiffusionCommand(g),
		newScoreCommand(g),
		newQuantizeCommand(g),
		newServeCommand(g),
		newExplorerCommand(g),
		newEngineCommand(g),
		newStudyCommand(g),
	)
	return root
}

// newLogger builds the one logger of this process; it writes to w.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.LevelVar
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: &lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
}

// run executes the command line args and returns the process exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globalOptions{stdin: stdin, stdout: stdout, stderr: stderr, logger: slog.New(slog.DiscardHandler)}
	root := newRootCommand(g)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if g.stopProf != nil {
		err = errors.Join(err, g.stopProf())
	}
	code := exitCode(ctx, err)
	if err != nil {
		fmt.Fprintln(stderr, errorLine(code, err))
	}
	return code
}

// errorLine is the last line a failed command prints. An interrupted command says so, with
// the error only when it tells more than that the context was cancelled.
func errorLine(code int, err error) string {
	if code != exitInterrupted {
		return "genquorum: " + err.Error()
	}
	if err.Error() == context.Canceled.Error() {
		return "genquorum: interrupted"
	}
	return "genquorum: interrupted (" + err.Error() + ")"
}

// exitCode maps an error to the process exit status.
func exitCode(ctx context.Context, err error) int {
	var ue usageError
	var pe partialError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return exitInterrupted
	case errors.As(err, &pe):
		return exitPartial
	case errors.As(err, &ue):
		return exitUsage
	case strings.HasPrefix(err.Error(), "unknown command"), strings.HasPrefix(err.Error(), "accepts "),
		strings.HasPrefix(err.Error(), "requires at least"), strings.HasPrefix(err.Error(), "unknown flag"),
		strings.HasPrefix(err.Error(), "required flag"):
		// cobra's own argument errors carry no type.
		return exitUsage
	default:
		return exitError
	}
}

// startCPUProfile starts the CPU profile named by --cpuprofile, if any; run stops it when the
// command returns.
func (g *globalOptions) startCPUProfile() error {
	if g.cpuProfile == "" || g.stopProf != nil {
		return nil
	}
	f, err := os.Create(g.cpuProfile)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	g.stopProf = func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		return nil
	}
	return nil
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// checkWorkers rejects a negative --workers, in every command that has the flag.
func checkWorkers(cmd *cobra.Command) error {
	f := cmd.Flags().Lookup("workers")
	if f == nil || f.Value.Type() != "int" {
		return nil
	}
	if n, err := strconv.Atoi(f.Value.String()); err == nil && n < 0 {
		return usagef("--workers %d: want 0 or more", n)
	}
	return nil
}

// logsInfo reports whether cmd runs long enough for INFO lines to be its progress report:
// daemons, networks, training and studies. Other commands log WARN and above unless
// --log-level is given.
func logsInfo(cmd *cobra.Command) bool {
	path := strings.Fields(cmd.CommandPath())
	if len(path) < 2 {
		return false
	}
	switch path[1] {
	case "node", "serve", "testnet", "bench", "demo", "study":
		return true
	case "diffusion":
		return len(path) > 2 && (path[2] == "train" || path[2] == "variant" || path[2] == "classifier")
	}
	return false
}
