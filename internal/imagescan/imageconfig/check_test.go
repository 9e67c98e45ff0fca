package imageconfig

import (
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/finding"
)

func TestAllValid(t *testing.T) {
	if err := Validate(All()); err != nil {
		t.Fatal(err)
	}
	for _, c := range All() {
		if !strings.HasPrefix(c.ID, "image/") {
			t.Errorf("%s: image-config checks live under image/", c.ID)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	ok := func() *Check { return RootUser() }
	tests := []struct {
		name string
		edit func(c *Check)
		want string
	}{
		{"bad id", func(c *Check) { c.ID = "Root User" }, "does not match"},
		{"no severity", func(c *Check) { c.Severity = finding.SeverityUnknown }, "needs a severity"},
		{"no control", func(c *Check) { c.CIS = "" }, "needs a CIS control"},
		{"both kinds", func(c *Check) { c.Files = SetuidFiles().Files }, "exactly one"},
		{"no title", func(c *Check) { c.Title = "" }, "needs a title"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok()
			tt.edit(c)
			err := Validate([]*Check{c})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if err := Validate([]*Check{RootUser(), RootUser()}); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("duplicate ids: %v", err)
	}
}
