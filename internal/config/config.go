package config

import (
	"log/slog"
	"time"
)

// APIVersion and Kind identify the file format. Both fields are optional in
// a file; when present they must have these values.
const (
	APIVersion = "palisade.dev/v1alpha1"
	Kind       = "Config"
)

// MaxSize is the largest configuration file Palisade reads. Real files are a
// few kilobytes; the cap keeps a wrong path (a log, an image) from being
// read into memory.
const MaxSize = 4 << 20

// Config is the content of palisade.yaml. Build one with Default, Load or
// Parse; a Config from Load or Parse remembers where each field was written,
// so that Validate can point at the line.
type Config struct {
	// APIVersion is APIVersion, or empty.
	APIVersion string
	// Kind is Kind, or empty.
	Kind string
	// ImagePolicy is the golden-image gate of `palisade image scan`
	// (section imagePolicy; baseline is its deprecated name).
	ImagePolicy ImagePolicy
	// Registries says where images may come from.
	Registries Registries
	// Exceptions are the accepted risks, in file order; when several match
	// a finding, the first unexpired one is recorded.
	Exceptions []Exception
	// Store says where data is kept.
	Store Store
	// Server configures `palisade serve`.
	Server Server
	// Secrets configures secret detection in images.
	Secrets Secrets
	// Admission configures the admission webhook of `palisade serve`.
	Admission Admission
	// Log configures the process logger.
	Log Log
	// Audit configures audit alert forwarding, retention and Falco.
	Audit Audit
	// Posture configures continuous posture in `palisade serve`.
	Posture Posture

	// Warnings are problems in the file that do not stop Palisade, such as
	// a deprecated section name, each as "file:line:col: path: message".
	// Parse fills it; the CLI prints it to stderr.
	Warnings []string

	src *source // positions of the fields in the file; nil when built in code
}

// ImagePolicy is the golden-image gate that `palisade image scan` applies:
// an image that exceeds it fails the scan (exit code 1).
type ImagePolicy struct {
	// MaxVulnerabilities is the number of vulnerabilities of each severity
	// an image may have; Unlimited (-1) lifts the limit.
	MaxVulnerabilities SeverityLimits
	// FailOnFixableOnly counts only vulnerabilities that have a fixed
	// version against MaxVulnerabilities.
	FailOnFixableOnly bool
	// NoSecrets fails an image that contains any secret, in any layer.
	NoSecrets bool
	// MaxDBAge is how old the vulnerability database may be before a scan
	// refuses to pass an image on it; 0 disables the check.
	MaxDBAge Duration
	// WarnDBAge is how old the vulnerability database may be before a scan
	// warns about it (without failing); 0 disables the warning.
	WarnDBAge Duration
	// SLA is how long a vulnerability of each severity may stay open after
	// it was first seen on the image's repository before it fails the gate;
	// 0 means no SLA.
	SLA SLA
	// DeniedPackages are packages an image must not contain, whatever
	// their vulnerabilities.
	DeniedPackages []DeniedPackage
}

// Baseline is the former name of ImagePolicy, kept so that code written
// against it still compiles.
//
// Deprecated: use ImagePolicy.
type Baseline = ImagePolicy

// SeverityLimits holds one vulnerability count limit per severity, each a
// count or Unlimited. Info findings are never limited.
type SeverityLimits struct {
	Critical, High, Medium, Low int
	// Unknown limits vulnerabilities whose advisory gives no severity.
	Unknown int
}

// Unlimited is the SeverityLimits value that lifts a limit.
const Unlimited = -1

// SLA holds one remediation deadline per severity, measured from when a
// finding was first seen; 0 means none.
type SLA struct {
	Critical, High, Medium, Low, Unknown Duration
}

// Registries says which registries images may come from.
type Registries struct {
	// Trusted lists repository patterns in path.Match syntax, such as
	// "ghcr.io/acme/*" ('*' does not cross '/'). Empty means every
	// registry is trusted.
	Trusted []string
	// AllowLatest allows images referenced by the "latest" tag or by no tag.
	AllowLatest bool
	// FloatingTags are tags that, like "latest", are moved to each new
	// build ("dev", "nightly", "stable"): an image referenced by one is
	// as unpinned as one referenced by latest.
	FloatingTags []string
}

// Store says where Palisade keeps its data.
type Store struct {
	// DSN is empty (SQLite in the user data directory), "postgres://…" or
	// "postgresql://…" (PostgreSQL), or "sqlite:PATH" or a plain file path
	// (SQLite at PATH). See Backend.
	DSN string
}

// Server configures `palisade serve`.
type Server struct {
	// Listen is the host:port the HTTPS API, webhook and audit receiver
	// listen on.
	Listen string
	// TLS names the serving certificate; empty means a self-signed one.
	TLS TLS
	// TokensFile is the file holding API bearer tokens. Tokens never appear
	// in palisade.yaml itself, which is often committed to git.
	TokensFile string
	// ShutdownTimeout bounds how long a graceful shutdown waits for
	// in-flight requests and event acknowledgements.
	ShutdownTimeout Duration
}

// TLS names a PEM certificate chain and its private key.
type TLS struct {
	// CertFile is the certificate chain, leaf first.
	CertFile string
	// KeyFile is the private key of the leaf certificate.
	KeyFile string
}

// Enabled reports whether a certificate is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Log configures the process logger.
type Log struct {
	// Level is debug, info, warn or error.
	Level string
	// Format is json or text.
	Format string
}

// SlogLevel returns Level as a slog.Level; an unknown level is Info
// (Validate rejects it).
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Default returns the configuration Palisade uses when palisade.yaml is
// absent or empty; a file overrides it field by field.
//
// The baseline is the one a demanding CI pipeline expects: no critical, no
// high and no unrated vulnerability (fixable or not; many OSV sources, the Go
// database among them, rate nothing, and unrated is not harmless), any
// number of medium and low ones, no secrets, and a vulnerability database at most 5 days
// old (Grype's default), with a warning from 2 days: OSV data changes daily, so
// a database two days old means a daily update job has missed a run, which is
// worth hearing about days before the gate starts failing builds. SLAs are 7, 30, 90 and 180 days for critical, high,
// medium and low, a common policy (e.g. CISA BOD 19-02 gives 15 and 30 days
// for internet-facing critical and high). The server listens on loopback
// only and allows 20s to drain, inside Kubernetes' default 30s grace period.
func Default() *Config {
	return &Config{
		APIVersion: APIVersion,
		Kind:       Kind,
		ImagePolicy: ImagePolicy{
			MaxVulnerabilities: SeverityLimits{
				Critical: 0,
				High:     0,
				Medium:   Unlimited,
				Low:      Unlimited,
				Unknown:  0,
			},
			FailOnFixableOnly: false,
			NoSecrets:         true,
			MaxDBAge:          5 * Day,
			WarnDBAge:         2 * Day,
			SLA: SLA{
				Critical: 7 * Day,
				High:     30 * Day,
				Medium:   90 * Day,
				Low:      180 * Day,
			},
		},
		Registries: Registries{AllowLatest: false},
		Server: Server{
			Listen:          "127.0.0.1:8443",
			ShutdownTimeout: Duration(20 * time.Second),
		},
		Admission: defaultAdmission(),
		Log:       Log{Level: "info", Format: "json"},
		Audit:     defaultAudit(),
	}
}
