// Package cli builds Palisade's cobra command tree. It parses flags, loads
// the configuration, picks the output format and maps errors to exit codes;
// the work itself happens in the capability packages.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
)

// DefaultConfigFile is read from the working directory when --config is not
// given and the file exists.
const DefaultConfigFile = "palisade.yaml"

// Env is what the commands touch of the outside world, so tests can run
// them in-process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time
	// OwnsStdLog lets the commands send the standard log package's output
	// (Helm warns through it when it merges chart values) into their
	// logger, in its format: only the process's own environment does.
	OwnsStdLog bool
}

// OSEnv is the real process environment.
func OSEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now, OwnsStdLog: true}
}

// globals are the persistent flags and what is derived from them once, in
// the root command's PersistentPreRunE.
type globals struct {
	env        Env
	configPath string
	output     string
	logLevel   string
	noColor    bool

	cfg    *config.Config
	format finding.Format
	logger *slog.Logger
}

// NewRootCommand builds the palisade command tree.
func NewRootCommand(env Env) *cobra.Command {
	g := &globals{env: env}
	root := &cobra.Command{
		Use:   "palisade",
		Short: "Secure containerized applications on Kubernetes, from build to runtime",
		Long: `Palisade scans images before they ship, admits only trusted and least-privilege
workloads, detects control-plane threats in audit logs, and reports the posture
of manifests and live clusters — one engine, one finding model, one store.

` + exitCodesHelp,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return g.setup(cmd) },
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	pf := root.PersistentFlags()
	pf.StringVar(&g.configPath, "config", "", "configuration file (default: ./"+DefaultConfigFile+" when present)")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: "+formatNames())
	pf.StringVar(&g.logLevel, "log-level", "", "log level: debug, info, warn, error (default: from config, else info)")
	pf.BoolVar(&g.noColor, "no-color", false, "disable colours (also NO_COLOR=1); colours are only used on a terminal")

	root.AddCommand(
		newVersionCommand(g),
		newServeCommand(g),
		newLabCommand(g),
		newKeyCommand(g),
		newImageCommand(g),
		newAdmissionCommand(g),
		newAuditCommand(g),
		newDBCommand(g),
		newPostureCommand(g),
		newPolicyCommand(g),
		newNodeCommand(g),
	)
	requireKnownSubcommands(root)
	return root
}

// requireKnownSubcommands makes every command that only groups others
// refuse an unknown subcommand. Cobra prints such a group's help and
// exits 0 on `palisade posture scann`: in a CI pipeline a typo would pass
// the gate without scanning anything.
func requireKnownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		requireKnownSubcommands(sub)
	}
	if c.Runnable() || !c.HasSubCommands() || c.Parent() == nil {
		return // the root already refuses unknown commands
	}
	c.SuggestionsMinimumDistance = 2 // cobra's default, which SuggestionsFor does not apply
	c.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return errors.New(msg)
	}
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
}

func formatNames() string {
	var names []string
	for _, f := range finding.Formats() {
		names = append(names, string(f))
	}
	return strings.Join(names, "|")
}

func (g *globals) setup(cmd *cobra.Command) error {
	f, err := finding.ParseFormat(g.output)
	if err != nil {
		return usageError(fmt.Errorf("--output: %w", err))
	}
	g.format = f
	cfg, err := g.loadConfig(cmd)
	if err != nil {
		return usageError(err)
	}
	g.cfg = cfg
	// Deprecations and the like: not worth stopping for, worth reading.
	for _, w := range cfg.Warnings {
		fmt.Fprintf(g.env.Stderr, "palisade: warning: %s\n", w)
	}
	level := cfg.Log.SlogLevel()
	if g.logLevel != "" {
		if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
			return usageError(fmt.Errorf("--log-level %q: want debug, info, warn or error", g.logLevel))
		}
	}
	hopts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "text" {
		g.logger = slog.New(slog.NewTextHandler(g.env.Stderr, hopts))
	} else {
		g.logger = slog.New(slog.NewJSONHandler(g.env.Stderr, hopts))
	}
	if g.env.OwnsStdLog {
		log.SetFlags(0)
		log.SetOutput(stdLogWriter{g.logger})
	}
	return nil
}

// stdLogWriter turns each line libraries write with the standard log
// package into a warning of logger (Helm's "warning: destination for
// x is a table" would otherwise break a JSON log stream).
type stdLogWriter struct{ logger *slog.Logger }

func (w stdLogWriter) Write(p []byte) (int, error) {
	for line := range strings.Lines(string(p)) {
		if line = strings.TrimSpace(line); line != "" {
			w.logger.Warn(strings.TrimPrefix(line, "warning: "), "from", "library")
		}
	}
	return len(p), nil
}

func (g *globals) loadConfig(cmd *cobra.Command) (*config.Config, error) {
	path := g.configPath
	if !cmd.Flags().Changed("config") {
		if _, err := os.Stat(DefaultConfigFile); err != nil {
			return config.Default(), nil
		}
		path = DefaultConfigFile
	}
	return config.Load(path)
}

// color reports whether table output may use ANSI colours: only on a
// terminal, and never with --no-color or NO_COLOR set (no-color.org).
func (g *globals) color() bool {
	if g.noColor || g.env.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := g.env.Stdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Execute runs the command line args and returns the process exit code,
// printing the error (if any) to stderr.
func Execute(ctx context.Context, args []string, env Env) int {
	root := NewRootCommand(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitCode(err)
	var exitErr *ExitError
	if errors.As(err, &exitErr) && exitErr.Err == nil {
		return code // the command already reported (e.g. findings written)
	}
	misused := isCobraUsageError(err)
	if code == ExitInternal && misused {
		code = ExitUsage
	}
	fmt.Fprintf(env.Stderr, "palisade: %v\n", err)
	// The hint only where the command line itself is wrong: after a file
	// that does not parse or a flag value the error already names, it
	// sends the user to read help that says nothing about their mistake.
	if misused {
		fmt.Fprintln(env.Stderr, "Run 'palisade --help' for usage.")
	}
	return code
}

// isCobraUsageError recognises the errors cobra returns itself, before any
// command runs: unknown commands and wrong argument counts.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
