package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/paths"
	"github.com/palisade-sec/palisade/internal/posture/versions"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

// dbFlags are the flags the db subcommands share.
type dbFlags struct {
	path    string
	strict  bool
	replace bool
}

func newDBCommand(g *globals) *cobra.Command {
	f := &dbFlags{}
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the vulnerability database (OSV advisories)",
		Long: `The vulnerability database is a SQLite index of OSV advisories in the cache
directory (` + "`palisade db status`" + ` shows where). 'db import' loads osv.dev all.zip bundles,
'db update' downloads them first; both replace the database atomically, so a failed
or interrupted run leaves the previous database working.`,
	}
	cmd.PersistentFlags().StringVar(&f.path, "db", "", "database file (default: "+paths.VulnDB()+")")
	cmd.AddCommand(newDBImportCommand(g, f), newDBUpdateCommand(g, f), newDBStatusCommand(g, f))
	return cmd
}

func (f *dbFlags) dbPath() string {
	if f.path != "" {
		return f.path
	}
	return paths.VulnDB()
}

func (f *dbFlags) addImportFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.strict, "strict", false, "fail the import on the first malformed advisory (default: skip it, report it and go on)")
	cmd.Flags().BoolVar(&f.replace, "replace", false, "drop ecosystems the bundles do not contain (default: keep them from the current database)")
}

func (f *dbFlags) importOptions(g *globals) vulndb.ImportOptions {
	return vulndb.ImportOptions{Strict: f.strict, Replace: f.replace, Now: g.env.Now, Logger: g.logger}
}

func newDBImportCommand(g *globals, f *dbFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import BUNDLE...",
		Short: "Import osv.dev all.zip bundles into the vulnerability database",
		Long: `Import OSV bundles (osv.dev's <Ecosystem>/all.zip) into the vulnerability database.
Ecosystems not in the bundles are kept from the current database unless --replace.
A malformed advisory is skipped and named (bundle and entry) unless --strict; a missing,
unreadable or corrupt bundle fails the import (exit code 2) and keeps the old database.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkDBFormat(g); err != nil {
				return err
			}
			res, err := vulndb.Import(cmd.Context(), f.dbPath(), args, f.importOptions(g))
			if err != nil {
				return dbError(err)
			}
			return writeImportResult(cmd.OutOrStdout(), g, res)
		},
	}
	f.addImportFlags(cmd)
	return cmd
}

func newDBUpdateCommand(g *globals, f *dbFlags) *cobra.Command {
	var mirror, versionsURL string
	var ecosystems []string
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download the OSV bundles and import them; refresh the Kubernetes versions table",
		Long: `Download <mirror>/<Ecosystem>/all.zip for each ecosystem and import the bundles
exactly as 'db import' does. Nothing is replaced unless every download succeeds.

Then refresh the Kubernetes releases and end-of-support table that the posture
version checks use from --versions-url (endoflife.date's API). With a custom
--mirror (an offline mirror) the table is refreshed only when --versions-url
is given; when it cannot be refreshed the previous or embedded table stays.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkDBFormat(g); err != nil {
				return err
			}
			res, err := vulndb.Update(cmd.Context(), f.dbPath(), vulndb.UpdateOptions{
				Mirror: mirror, Ecosystems: ecosystems, Import: f.importOptions(g),
			})
			if err != nil {
				return dbError(err)
			}
			if err := writeImportResult(cmd.OutOrStdout(), g, res); err != nil {
				return err
			}
			return refreshVersionsTable(cmd, g, versionsURL, mirror != vulndb.DefaultMirror)
		},
	}
	cmd.Flags().StringVar(&mirror, "mirror", vulndb.DefaultMirror, "base URL serving <Ecosystem>/all.zip")
	cmd.Flags().StringVar(&versionsURL, "versions-url", "", "endoflife.date API base serving <product> release data (default "+versions.DefaultSource+"; \"none\" skips)")
	cmd.Flags().StringSliceVar(&ecosystems, "ecosystems", vulndb.DefaultEcosystems(), "OSV ecosystems to download")
	f.addImportFlags(cmd)
	return cmd
}

func newDBStatusCommand(g *globals, f *dbFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the vulnerability database's ecosystems, advisory counts and age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkDBFormat(g); err != nil {
				return err
			}
			d, err := vulndb.Open(cmd.Context(), f.dbPath(), g.logger)
			if err != nil {
				return dbError(err)
			}
			defer d.Close()
			s, err := d.Status(cmd.Context())
			if err != nil {
				return err
			}
			return writeDBStatus(cmd.OutOrStdout(), g, s)
		},
	}
}

// checkDBFormat accepts the formats the db commands can write.
func checkDBFormat(g *globals) error {
	if g.format != "table" && g.format != "json" {
		return usageError(fmt.Errorf("--output %s: the db commands write table or json", g.format))
	}
	return nil
}

// dbError maps bad input (missing or corrupt bundles, no database, a
// failed download of the user's mirror) to exit code 2; the rest is internal.
func dbError(err error) error {
	if errors.Is(err, vulndb.ErrBadInput) || errors.Is(err, vulndb.ErrNoDatabase) || errors.Is(err, vulndb.ErrDownload) {
		return usageError(err)
	}
	return err
}

func dbWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeImportResult(w io.Writer, g *globals, res *vulndb.ImportResult) error {
	if g.format == "json" {
		return dbWriteJSON(w, res)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BUNDLE\tADVISORIES\tWITHDRAWN\tSKIPPED\tECOSYSTEMS")
	skipped := 0
	for _, b := range res.Bundles {
		var ecos []string
		for name, n := range b.Ecosystems {
			ecos = append(ecos, fmt.Sprintf("%s=%d", name, n))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", b.Path, b.Advisories, b.Withdrawn, len(b.Skipped), strings.Join(dbSortedStrings(ecos), " "))
		skipped += len(b.Skipped)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, b := range res.Bundles {
		for _, e := range b.Skipped {
			fmt.Fprintf(w, "skipped: %s\n", e.Error())
		}
	}
	if len(res.Carried) > 0 {
		fmt.Fprintf(w, "kept from the previous database: %s\n", strings.Join(res.Carried, ", "))
	}
	fmt.Fprintf(w, "imported into %s in %s", res.Path, res.Duration.Round(time.Millisecond))
	if skipped > 0 {
		fmt.Fprintf(w, " (%d malformed advisories skipped)", skipped)
	}
	fmt.Fprintln(w)
	return nil
}

func writeDBStatus(w io.Writer, g *globals, s *vulndb.Status) error {
	now := g.env.Now()
	if g.format == "json" {
		type eco struct {
			vulndb.EcosystemStatus
			Age string `json:"age"`
		}
		out := struct {
			*vulndb.Status
			Age        string `json:"age"`
			Ecosystems []eco  `json:"ecosystems"`
		}{Status: s, Age: humanAge(now.Sub(s.ImportedAt))}
		for _, e := range s.Ecosystems {
			out.Ecosystems = append(out.Ecosystems, eco{e, humanAge(now.Sub(e.Newest))})
		}
		return dbWriteJSON(w, out)
	}
	fmt.Fprintf(w, "database: %s\nimported: %s (%s ago)\n", s.Path, s.ImportedAt.UTC().Format(time.RFC3339), humanAge(now.Sub(s.ImportedAt)))
	if s.Skipped > 0 {
		fmt.Fprintf(w, "skipped:  %d malformed advisories at import\n", s.Skipped)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ECOSYSTEM\tADVISORIES\tNEWEST ADVISORY\tAGE\tSOURCE")
	for _, e := range s.Ecosystems {
		newest, age := "-", "-"
		if !e.Newest.IsZero() && e.Newest.Year() > 1 {
			newest, age = e.Newest.UTC().Format("2006-01-02"), humanAge(now.Sub(e.Newest))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", e.Name, e.Advisories, newest, age, e.Source)
	}
	return tw.Flush()
}

func dbSortedStrings(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
