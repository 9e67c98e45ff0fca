package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/palisade-sec/palisade/internal/admission"
)

func newAdmissionCommand(g *globals) *cobra.Command {
	adm := &cobra.Command{Use: "admission", Short: "Install and inspect the admission webhook"}
	var o admission.InstallOptions
	var caFile string
	install := &cobra.Command{
		Use:   "install",
		Short: "Print the webhook configurations that route workloads to palisade serve",
		Long: `Print the ValidatingWebhookConfiguration for 'kubectl apply -f -', and with
admission.imageTrust.pinDigests also the MutatingWebhookConfiguration of the
digest-pinning webhook (same rules and selectors, reinvocationPolicy IfNeeded).

It covers pods (and ephemeral containers) and every workload template kind on
CREATE and UPDATE, leaves out the excluded namespaces (admission.excludeNamespaces)
by namespaceSelector, uses a 3 s timeout, and fails closed unless
admission.imageTrust.failOpen is set.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if caFile == "" {
				return usageError(errors.New("--ca-file is required (the webhook's serving certificate or its CA)"))
			}
			ca, err := os.ReadFile(caFile)
			if err != nil {
				return usageError(fmt.Errorf("read CA bundle: %w", err))
			}
			o.CABundle = ca
			o.FailOpen = g.cfg.Admission.ImageTrust.FailOpen
			o.ExcludeNamespaces = g.cfg.Admission.ExcludeNamespaces
			vwc, err := admission.WebhookConfiguration(o)
			if err != nil {
				return usageError(err)
			}
			out, err := yaml.Marshal(vwc)
			if err != nil {
				return fmt.Errorf("encode webhook configuration: %w", err)
			}
			if g.cfg.Admission.ImageTrust.PinDigests {
				mwc, err := admission.MutatingWebhookConfiguration(o)
				if err != nil {
					return usageError(err)
				}
				m, err := yaml.Marshal(mwc)
				if err != nil {
					return fmt.Errorf("encode mutating webhook configuration: %w", err)
				}
				out = append(append(out, "---\n"...), m...)
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	f := install.Flags()
	f.StringVar(&o.URL, "url", "", "https URL where palisade serve is reachable from the API server")
	f.StringVar(&o.Service, "service", "", "in-cluster Service namespace/name[:port] of palisade serve")
	f.StringVar(&caFile, "ca-file", "", "PEM file that verifies the webhook's certificate (palisade serve's tls.crt)")
	adm.AddCommand(install)
	return adm
}
