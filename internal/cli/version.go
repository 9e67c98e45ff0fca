package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/buildinfo"
)

func newVersionCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, Go version and advisory database age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := buildinfo.Get()
			db := advisoryDBStatus(cmd.Context(), g.env.Now())
			out := cmd.OutOrStdout()
			if g.format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					buildinfo.Info
					AdvisoryDB dbStatus `json:"advisoryDB"`
				}{info, db})
			}
			fmt.Fprintf(out, "palisade %s\n", info.Version)
			fmt.Fprintf(out, "  commit:      %s\n", info.Commit)
			fmt.Fprintf(out, "  go:          %s %s\n", info.GoVersion, info.Platform)
			fmt.Fprintf(out, "  advisory db: %s\n", db)
			return nil
		},
	}
}
