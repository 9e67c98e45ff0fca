package checks

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestContainerPrograms(t *testing.T) {
	for _, tc := range []struct {
		name          string
		command, args []string
		want          []string // "name field[index]", "+sh" when found in shell code
	}{
		{name: "argv0", command: []string{"/usr/bin/sudo", "-u", "app", "run"}, want: []string{"/usr/bin/sudo command[0]"}},
		{name: "args without command", args: []string{"sudo", "x"}, want: []string{"sudo args[0]"}},
		{name: "args after command are operands", command: []string{"app"}, args: []string{"sudo"}, want: []string{"app command[0]"}},
		{name: "env wrapper", command: []string{"env", "-i", "A=1", "B=2", "sudo", "id"}, want: []string{"sudo command[4]"}},
		{name: "nice with value", command: []string{"nice", "-n", "10", "doas", "id"}, want: []string{"doas command[3]"}},
		{name: "timeout duration", command: []string{"timeout", "-s", "KILL", "30s", "sudo", "id"}, want: []string{"sudo command[4]"}},
		{name: "tini then shell", command: []string{"tini", "--", "sh", "-c", "sudo id"},
			want: []string{"sh command[2]", "sudo command[4]+sh"}},
		{name: "shell script in args", command: []string{"/bin/bash", "-euxc"}, args: []string{"cd /x && exec sudo ./run; echo sudo"},
			want: []string{"/bin/bash command[0]", "cd args[0]+sh", "sudo args[0]+sh", "echo args[0]+sh"}},
		{name: "shell line as one element", command: []string{"sudo printenv"}, args: []string{"HOSTNAME"},
			want: []string{"sudo command[0]+sh"}},
		{name: "command substitution and pipe", command: []string{"sh", "-c", `x=$(sudo cat /etc/shadow) | tee "sudo"`},
			want: []string{"sh command[0]", "sudo command[2]+sh", "tee command[2]+sh"}},
		{name: "quoted and escaped program", command: []string{"sh", "-c", `"su"do id; su\do id`},
			want: []string{"sh command[0]", "sudo command[2]+sh", "sudo command[2]+sh"}},
		{name: "nested sh -c", command: []string{"sh", "-c", `bash -c 'sudo id'`},
			want: []string{"sh command[0]", "bash command[2]+sh", "sudo command[2]+sh"}},
		{name: "substrings are not words", command: []string{"/app/sudoku", "--mode=pseudo"}, want: []string{"/app/sudoku command[0]"}},
		{name: "shell without -c", command: []string{"sh", "/scripts/start.sh", "sudo"}, want: []string{"sh command[0]"}},
		{name: "invalid shell falls back", command: []string{"sh", "-c", "if then ; sudo id ("},
			want: []string{"sh command[0]", "if command[2]+sh", "sudo command[2]+sh"}},
		{name: "expansion as program", command: []string{"sh", "-c", "$CMD id"}, want: []string{"sh command[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range containerPrograms(&corev1.Container{Command: tc.command, Args: tc.args}) {
				s := p.Name + " " + p.Field + "[" + itoa(p.Index) + "]"
				if p.Shell {
					s += "+sh"
				}
				got = append(got, s)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("programs (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseGitSyncConfig(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    [][2]string
		wantErr string
	}{
		{in: "", want: nil},
		{in: "core.sshCommand:ssh -i k", want: [][2]string{{"core.sshCommand", "ssh -i k"}}},
		{in: `a.b:1,"c.d.e":"x,y\"z",f.g:h\,i`, want: [][2]string{{"a.b", "1"}, {"c.d.e", `x,y"z`}, {"f.g", "h,i"}}},
		{in: `a.b:"1\n2"`, want: [][2]string{{"a.b", "1\n2"}}},
		{in: "a.b", wantErr: `git config key "a.b": no value`},
		{in: `a.b:1,"c.d:2`, want: [][2]string{{"a.b", "1"}}, wantErr: "unterminated quote"},
		{in: `a.b:"1"x`, wantErr: "unexpected 'x' after closing quote"},
		{in: `a.b:1\`, wantErr: "unfinished escape"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseGitSyncConfig(tc.in)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("pairs (-want +got):\n%s", d)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestGitConfigRunsCommand(t *testing.T) {
	for key, want := range map[string]bool{
		"core.sshCommand": true, "CORE.SSHCOMMAND": true, "core.hooksPath": true, "core.fsmonitor": true,
		"credential.helper": true, "credential.https://git.example.com.helper": true,
		"include.path": true, "includeIf.gitdir:/x/.path": true, "filter.lfs.smudge": true,
		"diff.external": true, "gpg.program": true, "protocol.ext.allow": true, "protocol.allow": true,
		"uploadpack.packObjectsHook": true, "remote.origin.uploadpack": true,
		"filter.smudge": false, "http.sslVerify": false, "http.postBuffer": false, "user.name": false,
		"remote.origin.url": false, "core.autocrlf": false, "nodot": false, "": false,
	} {
		if got := gitConfigRunsCommand(key); got != want {
			t.Errorf("gitConfigRunsCommand(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestGitSyncImage(t *testing.T) {
	for image, want := range map[string]bool{
		"registry.k8s.io/git-sync/git-sync:v4.4.0":         true,
		"k8s.gcr.io/git-sync:v3.1.6":                       true,
		"localhost:5000/mirror/git-sync@sha256:0123456789": true,
		"registry.k8s.io/git-sync/other:v1":                false,
		"git-sync.example.com/app:1.0":                     false,
		"localhost:5000/app":                               false,
	} {
		if got := gitSyncImage(image); got != want {
			t.Errorf("gitSyncImage(%q) = %v, want %v", image, got, want)
		}
	}
}

// FuzzParseGitSyncConfig checks that any value parses without panicking,
// and that pairs written back in quoted form parse to the same pairs.
func FuzzParseGitSyncConfig(f *testing.F) {
	for _, s := range []string{"a.b:c", `"a.b":"c,d",e.f:g\,h`, `a:"`, `\`, `"x"y:z`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pairs, err := parseGitSyncConfig(s)
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
		var b strings.Builder
		q := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
		for i, p := range pairs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + q.Replace(p[0]) + `":"` + q.Replace(p[1]) + `"`)
		}
		again, err := parseGitSyncConfig(b.String())
		if err != nil {
			t.Fatalf("re-parse %q: %v", b.String(), err)
		}
		if d := cmp.Diff(pairs, again); d != "" {
			t.Fatalf("round trip of %q (-first +again):\n%s", s, d)
		}
	})
}

// FuzzContainerPrograms checks that any command line is analysed without
// panicking and that every program names an element of it.
func FuzzContainerPrograms(f *testing.F) {
	for _, s := range []string{"sh\x00-c\x00sudo id", "sudo printenv", "env\x00A=1\x00sudo", "bash\x00-c\x00$(sudo x) <<EOF\nsudo\nEOF", "sh\x00-c\x00sh -c 'sh -c \"sh -c sudo\"'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := &corev1.Container{Command: strings.Split(s, "\x00")}
		for _, p := range containerPrograms(c) {
			if p.Field != "command" || p.Index < 0 || p.Index >= len(c.Command) {
				t.Fatalf("program %+v outside the command %q", p, c.Command)
			}
			if !p.Shell && p.Name != c.Command[p.Index] {
				t.Fatalf("program %q is not the word %q", p.Name, c.Command[p.Index])
			}
		}
	})
}
