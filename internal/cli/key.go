package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/attest"
)

func newKeyCommand(g *globals) *cobra.Command {
	key := &cobra.Command{Use: "key", Short: "Manage the keys that sign and verify scan attestations"}
	var prefix string
	var force bool
	gen := &cobra.Command{
		Use:   "generate",
		Short: "Write a new ECDSA P-256 key pair: PREFIX.key (0600) and PREFIX.pub",
		Long: `Write a new ECDSA P-256 key pair for signing scan attestations.

PREFIX.key is the private key (PKCS #8 PEM, mode 0600): keep it in your CI's
secret store. PREFIX.pub is the public key that 'palisade image verify' and the
admission webhook use to trust attested images.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			priv, pub, err := attest.GenerateKey()
			if err != nil {
				return err
			}
			flags := os.O_CREATE | os.O_WRONLY | os.O_EXCL
			if force {
				flags = os.O_CREATE | os.O_WRONLY | os.O_TRUNC
			}
			for _, f := range []struct {
				path string
				data []byte
				mode os.FileMode
			}{{prefix + ".key", priv, 0o600}, {prefix + ".pub", pub, 0o644}} {
				if err := writeNew(f.path, f.data, f.mode, flags); err != nil {
					return err
				}
			}
			k, err := attest.ParsePublicKey(prefix+".pub", pub)
			if err != nil {
				return err
			}
			id, _ := k.KeyID()
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s.key (private, keep secret) and %s.pub\nkey ID: %s\n", prefix, prefix, id)
			return nil
		},
	}
	gen.Flags().StringVar(&prefix, "output-prefix", "palisade", "path prefix of the two files")
	gen.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	key.AddCommand(gen)
	return key
}

func writeNew(path string, data []byte, mode os.FileMode, flags int) error {
	f, err := os.OpenFile(path, flags, mode)
	if errors.Is(err, os.ErrExist) {
		return usageError(fmt.Errorf("%s exists; use --force to overwrite", path))
	}
	if err != nil {
		return usageError(fmt.Errorf("create %s: %w", path, err))
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
