package checks

// git-sync (registry.k8s.io/git-sync) pulls a Git repository into a
// volume and holds the credentials to do so (SSH key, token, cookie file).
// Three settings make it run code that the repository — or whoever edits
// the setting — chooses, next to those credentials:
//
//   - an exec hook: --exechook-command, --pre-publish-exechook-command,
//     v3's --sync-hook-command, and their env forms (GITSYNC_/GIT_SYNC_
//     EXECHOOK_COMMAND, GITSYNC_PRE_PUBLISH_EXECHOOK_COMMAND,
//     GIT_SYNC_HOOK_COMMAND). git-sync runs it after every sync "with the
//     synced repo as its working directory": it exists to act on the
//     repository's content (a script in it, a Makefile, a package.json),
//     so whoever can push to the synced branch runs code in the pod.
//   - another git binary: --git / GITSYNC_GIT / GIT_SYNC_GIT ("mostly for
//     testing", says git-sync). Pointed at a file in a volume, as in
//     Akamai's 2024 git-sync research (no CVE was assigned; Kubernetes
//     called it working as intended), it runs whatever that file is —
//     a repository file, or a ConfigMap's. Checkov CKV_K8S_159 reports any
//     GITSYNC_GIT; we accept git by name or at the image's standard paths.
//   - git config that runs commands: --git-config, --git-config-add,
//     GITSYNC_GIT_CONFIG setting core.sshCommand, core.hooksPath,
//     core.fsmonitor, credential.helper, filter.*.smudge, include.path,
//     protocol.allow (ext::) and the like (gitConfigRunsCommand): git
//     starts those programs during fetch and checkout.
//
// The webhook (--webhook-url) is left out: git-sync only sends an HTTP
// request, and what the receiver does with the synced content is that
// receiver's code, not git-sync's. Flags are read only on containers that
// are git-sync by image (or carry git-sync's env); the env names are
// git-sync's own and count on any container.

import (
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// GitSyncExec reports git-sync containers configured to run commands.
func GitSyncExec() posture.Check {
	return posture.Check{
		ID:          "git-sync-exec",
		Title:       "git-sync runs a hook, another git binary or command-running git config",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "workload",
		Rationale:   "git-sync runs its exec hook in the freshly synced worktree, and --git or command-running git config start other programs: whoever can push to the repository, or edit that setting, runs code next to git-sync's repository credentials.",
		Remediation: "Drop the exec hook (use --webhook-url to notify a process that validates the content), leave --git at its default, and keep git config to settings that run no program.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{{MinVersion: 5, Eval: func(in *posture.Input) []posture.Result {
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				return gitSyncResults(in, c)
			})
		}}},
	}
}

// gitSyncSetting is one git-sync setting found in a container.
type gitSyncSetting struct {
	kind   string   // exechook, git, git-config
	source string   // "--git" or "env GITSYNC_GIT"
	value  string   // "" with fromRef
	path   []string // below the container
	// fromRef means the env value comes from a ConfigMap, Secret or field.
	fromRef bool
}

var (
	gitSyncHookFlags   = []string{"exechook-command", "pre-publish-exechook-command", "sync-hook-command"}
	gitSyncHookEnv     = []string{"GITSYNC_EXECHOOK_COMMAND", "GIT_SYNC_EXECHOOK_COMMAND", "GITSYNC_PRE_PUBLISH_EXECHOOK_COMMAND", "GIT_SYNC_HOOK_COMMAND"}
	gitSyncGitFlags    = []string{"git"}
	gitSyncGitEnv      = []string{"GITSYNC_GIT", "GIT_SYNC_GIT"}
	gitSyncConfigFlags = []string{"git-config", "git-config-add"}
	gitSyncConfigEnv   = []string{"GITSYNC_GIT_CONFIG", "GIT_SYNC_GIT_CONFIG"}
)

func gitSyncResults(in *posture.Input, c kube.ContainerRef) []posture.Result {
	var out []posture.Result
	done := map[string]bool{}
	var risky, sources []string // git config keys that run commands, over every source
	var configPath []string
	for _, s := range gitSyncSettings(c.Container) {
		if done[s.kind] {
			continue
		}
		var msg string
		switch s.kind {
		case "exechook":
			if s.value == "" && !s.fromRef {
				continue
			}
			msg = "git-sync container " + c.Container.Name + " runs exec hook " + quoteOr(s) + " (" + s.source + ") in each synced worktree."
		case "git":
			if !s.fromRef && (s.value == "" || standardGit(s.value)) {
				continue
			}
			msg = "git-sync container " + c.Container.Name + " runs " + quoteOr(s) + " as git (" + s.source + ")."
		case "git-config":
			pairs, _ := parseGitSyncConfig(s.value)
			n := len(risky)
			for _, p := range pairs {
				if gitConfigRunsCommand(p[0]) && !slices.Contains(risky, p[0]) {
					risky = append(risky, p[0])
				}
			}
			if len(risky) > n {
				sources = append(sources, s.source)
				if configPath == nil {
					configPath = s.path
				}
			}
			continue
		}
		done[s.kind] = true
		out = append(out, posture.Result{
			Path:     cpath(in, c, s.path...),
			Message:  msg,
			Evidence: []finding.Evidence{key("setting", s.kind), ev("source", s.source), ev("value", s.value)},
		})
	}
	if len(risky) > 0 {
		out = append(out, posture.Result{
			Path: cpath(in, c, configPath...),
			Message: "git-sync container " + c.Container.Name + " sets git config " + strings.Join(risky, ", ") +
				" (" + strings.Join(sources, ", ") + "), which makes git run a command.",
			Evidence: []finding.Evidence{key("setting", "git-config"), ev("source", strings.Join(sources, ",")), ev("keys", strings.Join(risky, ","))},
		})
	}
	return out
}

func quoteOr(s gitSyncSetting) string {
	if s.fromRef {
		return "from a reference (valueFrom)"
	}
	return `"` + s.value + `"`
}

// standardGit reports whether cmd names the image's own git.
func standardGit(cmd string) bool {
	switch cmd {
	case "git", "/usr/bin/git", "/bin/git", "/usr/local/bin/git":
		return true
	}
	return false
}

// gitSyncSettings returns the hook, git and git-config settings of c: env
// always, flags when c is git-sync.
func gitSyncSettings(c *corev1.Container) []gitSyncSetting {
	var out []gitSyncSetting
	isGitSync := gitSyncImage(c.Image)
	for i, e := range c.Env {
		kind := ""
		switch {
		case slices.Contains(gitSyncHookEnv, e.Name):
			kind = "exechook"
		case slices.Contains(gitSyncGitEnv, e.Name):
			kind = "git"
		case slices.Contains(gitSyncConfigEnv, e.Name):
			kind = "git-config"
		}
		if strings.HasPrefix(e.Name, "GITSYNC_") || strings.HasPrefix(e.Name, "GIT_SYNC_") {
			isGitSync = true
		}
		if kind == "" {
			continue
		}
		s := gitSyncSetting{kind: kind, source: "env " + e.Name, value: e.Value, path: []string{"env", itoa(i), "value"}}
		if e.ValueFrom != nil {
			if kind == "git-config" {
				continue // the keys cannot be seen
			}
			s.fromRef, s.path = true, []string{"env", itoa(i), "valueFrom"}
		}
		out = append(out, s)
	}
	if !isGitSync {
		return out
	}
	for _, f := range gitSyncFlags(c) {
		switch {
		case slices.Contains(gitSyncHookFlags, f.name):
			f.kind = "exechook"
		case slices.Contains(gitSyncGitFlags, f.name):
			f.kind = "git"
		case slices.Contains(gitSyncConfigFlags, f.name):
			f.kind = "git-config"
		default:
			continue
		}
		out = append(out, f.gitSyncSetting)
	}
	return out
}

// gitSyncImage reports whether image is git-sync's: its repository's last
// path element names it (registry.k8s.io/git-sync/git-sync:v4.4.0,
// k8s.gcr.io/git-sync:v3.1.6).
func gitSyncImage(image string) bool {
	repo, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndexByte(repo, '/') {
		repo = repo[:i]
	}
	return strings.Contains(path.Base(repo), "git-sync")
}

type gitSyncFlag struct {
	gitSyncSetting
	name string
}

// gitSyncFlags returns the --name=value and --name value flags of c's
// command line; git-sync v3 (Go flag) also takes a single dash.
func gitSyncFlags(c *corev1.Container) []gitSyncFlag {
	var out []gitSyncFlag
	scan := func(field string, argv []string) {
		for i := 0; i < len(argv); i++ {
			a := argv[i]
			if !strings.HasPrefix(a, "-") {
				continue
			}
			name := strings.TrimLeft(a, "-")
			name, value, hasValue := strings.Cut(name, "=")
			if !hasValue {
				if i+1 >= len(argv) || strings.HasPrefix(argv[i+1], "-") {
					continue
				}
				value = argv[i+1]
			}
			dashes := "--"
			if !strings.HasPrefix(a, "--") {
				dashes = "-"
			}
			out = append(out, gitSyncFlag{name: name, gitSyncSetting: gitSyncSetting{
				source: dashes + name, value: value, path: []string{field, itoa(i)},
			}})
		}
	}
	scan("command", c.Command)
	scan("args", c.Args)
	return out
}
