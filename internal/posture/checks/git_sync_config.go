package checks

import (
	"fmt"
	"strings"
)

// parseGitSyncConfig parses git-sync's --git-config value, a comma-separated
// list of key:value pairs where keys and values may be double-quoted and
// values may hold the escapes \n \t \" \, \\ ('core.sshCommand:ssh -i
// k,"remote.origin.url":"x"'). It returns the pairs it read before any
// error, so a check can judge the keys it saw; git-sync itself refuses a
// malformed value at start-up.
func parseGitSyncConfig(s string) ([][2]string, error) {
	var out [][2]string
	i := 0
	for i < len(s) {
		key, next, err := gitConfigToken(s, i, ':')
		if err != nil {
			return out, fmt.Errorf("git config key at byte %d: %w", i, err)
		}
		if next >= len(s) || s[next] != ':' {
			return out, fmt.Errorf("git config key %q: no value", key)
		}
		val, after, err := gitConfigToken(s, next+1, ',')
		if err != nil {
			return out, fmt.Errorf("git config key %q: value: %w", key, err)
		}
		out = append(out, [2]string{key, val})
		i = after
		if i < len(s) {
			i++ // the comma
		}
	}
	return out, nil
}

// gitConfigToken reads a quoted or unquoted token of s from i up to stop
// (not consumed) or the end; it returns the token and the index after it.
func gitConfigToken(s string, i int, stop byte) (string, int, error) {
	var b strings.Builder
	quoted := i < len(s) && s[i] == '"'
	if quoted {
		i++
	}
	for i < len(s) {
		c := s[i]
		switch {
		case quoted && c == '"':
			i++
			if i < len(s) && s[i] != stop {
				return "", i, fmt.Errorf("unexpected %q after closing quote", s[i])
			}
			return b.String(), i, nil
		case !quoted && c == stop:
			return b.String(), i, nil
		case c == '\\':
			if i+1 >= len(s) {
				return "", i, fmt.Errorf("unfinished escape")
			}
			switch e := s[i+1]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(e)
			}
			i += 2
			continue
		default:
			b.WriteByte(c)
		}
		i++
	}
	if quoted {
		return "", i, fmt.Errorf("unterminated quote")
	}
	return b.String(), i, nil
}

// gitConfigRunsCommand reports whether setting git config key (any case;
// "section.subsection.name") makes git run a command or load config that
// could: a program git starts for transport, credentials, hooks, file
// filters or signing, an include, or a protocol that runs commands.
func gitConfigRunsCommand(key string) bool {
	k := strings.ToLower(key)
	section, rest, ok := strings.Cut(k, ".")
	if !ok {
		return false
	}
	name := rest
	if j := strings.LastIndexByte(rest, '.'); j >= 0 {
		name = rest[j+1:]
	}
	sub := rest != name // a subsection such as filter.lfs.smudge
	switch section {
	case "core":
		switch name {
		case "sshcommand", "gitproxy", "askpass", "fsmonitor", "hookspath":
			return true
		}
	case "credential":
		return name == "helper"
	case "include", "includeif":
		return name == "path"
	case "filter":
		return sub && (name == "clean" || name == "smudge" || name == "process")
	case "diff":
		return name == "external" || (sub && (name == "command" || name == "textconv"))
	case "merge":
		return sub && name == "driver"
	case "gpg":
		return name == "program"
	case "protocol":
		return name == "allow" // protocol.allow / protocol.ext.allow: ext:: runs commands
	case "uploadpack":
		return name == "packobjectshook"
	case "remote":
		return sub && (name == "uploadpack" || name == "receivepack")
	}
	return false
}
