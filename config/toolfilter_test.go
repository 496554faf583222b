package config

import (
	"errors"
	"path"
	"strings"
	"testing"
)

func TestToolFilterAllows(t *testing.T) {
	for _, c := range []struct {
		name   string
		f      ToolFilter
		tool   string
		allows bool
	}{
		{"zero allows all", ToolFilter{}, "anything at all", true},
		{"empty allow allows all", ToolFilter{Allow: []string{}}, "x", true},
		{"allowed", ToolFilter{Allow: []string{"get_*", "list"}}, "get_weather", true},
		{"not allowed", ToolFilter{Allow: []string{"get_*", "list"}}, "delete", false},
		{"denied", ToolFilter{Deny: []string{"delete_*"}}, "delete_all", false},
		{"deny wins", ToolFilter{Allow: []string{"*"}, Deny: []string{"delete_*"}}, "delete_all", false},
		{"deny other", ToolFilter{Allow: []string{"*"}, Deny: []string{"delete_*"}}, "get", true},
		{"original name", ToolFilter{Allow: []string{"get weather"}}, "get weather", true},
		{"case matters", ToolFilter{Allow: []string{"get"}}, "GET", false},
		{"star stops at slash", ToolFilter{Allow: []string{"github*"}}, "github/issues", false},
		{"class", ToolFilter{Allow: []string{"v[0-9]"}}, "v7", true},
		{"malformed matches nothing", ToolFilter{Deny: []string{"[x"}}, "[x", true},
	} {
		if got := c.f.Allows(c.tool); got != c.allows {
			t.Errorf("%s: %+v.Allows(%q) = %v, want %v", c.name, c.f, c.tool, got, c.allows)
		}
	}
}

func TestToolFilterValidate(t *testing.T) {
	for _, c := range []struct {
		f    ToolFilter
		want string // "" = valid
	}{
		{ToolFilter{}, ""},
		{ToolFilter{Allow: []string{"*", "a?c", "[a-z]*", `x\*`}, Deny: []string{"rm"}}, ""},
		{ToolFilter{Allow: []string{"ok", "[a-"}}, `allow: pattern "[a-": syntax error in pattern`},
		{ToolFilter{Deny: []string{`x\`}}, `deny: pattern "x\\": syntax error in pattern`},
		{ToolFilter{Deny: []string{""}}, `deny: a pattern must not be empty`},
	} {
		err := c.f.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: Validate() = %v", c.f, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: Validate() = %v, want %q", c.f, err, c.want)
		case c.want != "" && strings.Contains(c.want, "syntax") && !errors.Is(err, path.ErrBadPattern):
			t.Errorf("%+v: %v does not wrap path.ErrBadPattern", c.f, err)
		}
	}
}
