package gateway

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

var validName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

func TestSanitize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "_"},
		{"get_weather-2", "get_weather-2"},
		{"get weather", "get_weather"},
		{"my.weather", "my_weather"},
		{"héllo", "h_llo"},   // é is two bytes, one character
		{"☀️ now", "___now"}, // sun and variation selector: two characters
		{"a\xffb", "a_b"},    // a byte that is not UTF-8
		{"x/y:z@1", "x_y_z_1"},
	} {
		if got := Sanitize(c.in); got != c.want {
			t.Errorf("Sanitize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// The examples of docs/gateway.md, and the rules they show.
func TestAssignNames(t *testing.T) {
	long := "summarize_the_quarterly_financial_report_and_mail_it_to_the_whole_team" // 70
	for _, c := range []struct {
		name     string
		refs     []Ref
		reserved map[string]bool
		want     []string
	}{
		{"sanitized", []Ref{{"srv_3fa2b1c4d5e6", "my.weather", "get weather"}}, nil,
			[]string{"my_weather__get_weather"}},
		{"too long", []Ref{{"srv_7c41d2e09a3b", "reports", long}}, nil,
			[]string{"reports__summarize_the_quarterly_financial_report_and_m_2bb5ef5a"}},
		{"same server name", []Ref{{"srv_5d6e7f809a1b", "calc", "add"}, {"srv_0a1b2c3d4e5f", "calc", "add"}}, nil,
			[]string{"calc__add_9376ab25", "calc__add"}},
		{"exact first", []Ref{{"srv_1", "w", "x y"}, {"srv_1", "w", "x_y"}}, nil,
			[]string{"w__x_y_0707f1eb", "w__x_y"}},
		{"exact server first", []Ref{{"srv_1", "my.w", "x"}, {"srv_2", "my_w", "x"}}, nil,
			[]string{"my_w__x_6d53f64f", "my_w__x"}},
		{"reserved", []Ref{{"srv_1", "w", "x_y"}}, map[string]bool{"w__x_y": true},
			[]string{"w__x_y_9fe540fb"}},
		{"twice", []Ref{{"srv_1", "w", "a"}, {"srv_1", "w", "a"}}, nil,
			[]string{"w__a", "w__a"}},
		{"empty", []Ref{{"srv_1", "", ""}}, nil, []string{"____"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := AssignNames(c.refs, c.reserved)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("AssignNames = %q, want %q", got, c.want)
			}
		})
	}
}

// A child may name a tool exactly like another's hashed name: the hash is
// taken again.
func TestAssignNamesHashTaken(t *testing.T) {
	refs := []Ref{{"srv_1", "w", "x y"}, {"srv_1", "w", "x_y"}, {"srv_1", "w", "x_y_0707f1eb"}}
	got := AssignNames(refs, nil)
	want := []string{"w__x_y_5b7316f3", "w__x_y", "w__x_y_0707f1eb"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("AssignNames = %q, want %q", got, want)
	}
}

// Whatever the refs, names are valid, distinct, not reserved, and the
// same in any order.
func TestAssignNamesProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	reserved := map[string]bool{"create_server": true, "a__b": true}
	for range 300 {
		refs := randomRefs(rng)
		names := AssignNames(refs, reserved)
		checkNames(t, refs, names, reserved)
		perm := rng.Perm(len(refs))
		shuffled := make([]Ref, len(refs))
		for i, p := range perm {
			shuffled[i] = refs[p]
		}
		again := AssignNames(shuffled, reserved)
		for i, p := range perm {
			if again[i] != names[p] {
				t.Fatalf("%+v is %q in one order, %q in another", refs[p], names[p], again[i])
			}
		}
	}
}

func checkNames(t *testing.T, refs []Ref, names []string, reserved map[string]bool) {
	t.Helper()
	owner := map[string]refKey{}
	for i, n := range names {
		if !validName.MatchString(n) || reserved[n] {
			t.Fatalf("%+v is named %q", refs[i], n)
		}
		if k, dup := owner[n]; dup && k != refs[i].key() {
			t.Fatalf("%q names both %+v and %+v", n, k, refs[i])
		}
		owner[n] = refs[i].key()
	}
}

// randomRefs makes a few servers (some sharing a name) with tools whose
// names collide after sanitizing, are long, or look like hashed names.
func randomRefs(rng *rand.Rand) []Ref {
	servers := []string{"a", "a", "a.", "a_", "weather", strings.Repeat("s", 60), "é"}
	tools := []string{"b", "b ", "b_", "x y", "x_y", "", strings.Repeat("t", 70), "b_a3891f57", "ü"}
	var refs []Ref
	for range 1 + rng.IntN(20) {
		s := rng.IntN(len(servers))
		refs = append(refs, Ref{fmt.Sprintf("srv_%d", s+rng.IntN(2)*10), servers[s], tools[rng.IntN(len(tools))]})
	}
	return refs
}

func TestTable(t *testing.T) {
	refs := []Ref{{"srv_2", "calc", "add"}, {"srv_1", "calc", "add"}, {"srv_1", "calc", "sub"}}
	tab := NewTable(refs, nil)
	if tab.Len() != 3 {
		t.Fatalf("Len = %d", tab.Len())
	}
	for _, r := range refs {
		name, ok := tab.Exposed(Ref{ServerID: r.ServerID, Name: r.Name})
		if got, found := tab.Lookup(name); !ok || !found || got != r {
			t.Errorf("%+v: exposed %q (%v), looked up %+v (%v)", r, name, ok, got, found)
		}
	}
	if _, ok := tab.Lookup("calc__mul"); ok {
		t.Error("an unknown name was found")
	}
	if _, ok := tab.Exposed(Ref{ServerID: "srv_3", Name: "add"}); ok {
		t.Error("an unknown ref was found")
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = tab.Lookup("calc__add") }); n != 0 {
		t.Errorf("Lookup allocates %v times", n)
	}
}

func BenchmarkLookup(b *testing.B) {
	var refs []Ref
	for i := range 1000 {
		refs = append(refs, Ref{fmt.Sprintf("srv_%d", i/20), fmt.Sprintf("server%d", i/20), fmt.Sprintf("tool_%d", i)})
	}
	tab := NewTable(refs, nil)
	name, _ := tab.Exposed(refs[500])
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := tab.Lookup(name); !ok {
			b.Fatal("not found")
		}
	}
}
