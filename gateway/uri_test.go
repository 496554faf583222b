package gateway

import (
	"testing"
	"testing/quick"

	"github.com/yosida95/uritemplate/v3"
)

// oddURIs seed the round-trip tests.
var oddURIs = []string{
	"", "/", "file:///tmp/a b", "file:///données/été.txt", "https://example.com/a?q=1#f",
	"metamcp://other.srv_1/file:///x", "x://y://z", "100%", "%zz%41", "greeting", "//host/path",
	"{var}", "file:///{+path}{?q,lang}", "?only=query", "#frag", "urn:isbn:0451450523", "a\x00b", "\xff",
}

func TestExposeURI(t *testing.T) {
	for _, c := range []struct{ id, server, uri, want string }{
		{"srv_3fa2b1c4d5e6", "my.weather", "weather://berlin/now", "metamcp://my_weather.srv_3fa2b1c4d5e6/weather://berlin/now"},
		{"srv_1", "Files", "file:///tmp/a b", "metamcp://files.srv_1/file:///tmp/a b"},
		{"srv_1", "", "", "metamcp://_.srv_1/"},
		{"srv_1", "a.b.c", "file:///{path}", "metamcp://a_b_c.srv_1/file:///{path}"},
	} {
		if got := ExposeURI(c.id, c.server, c.uri); got != c.want {
			t.Errorf("ExposeURI(%q, %q, %q) = %q, want %q", c.id, c.server, c.uri, got, c.want)
		}
	}
}

func TestResolveURI(t *testing.T) {
	for _, c := range []struct {
		in, id, uri string
		ok          bool
	}{
		{"metamcp://files.srv_1/file:///x", "srv_1", "file:///x", true},
		{"METAMCP://Files.srv_1/file:///x", "srv_1", "file:///x", true},
		{"metamcp://a.b.srv_1/", "srv_1", "", true},
		{"metamcp://files.srv_1", "", "", false}, // no path
		{"metamcp://files/x", "", "", false},     // no server id
		{"metamcp://.srv_1/x", "", "", false},
		{"metamcp://files./x", "", "", false},
		{"metamcp://files.srv%31/x", "", "", false},
		{"metamcp:/files.srv_1/x", "", "", false},
		{"file:///x", "", "", false},
		{"", "", "", false},
	} {
		id, uri, ok := ResolveURI(c.in)
		if id != c.id || uri != c.uri || ok != c.ok {
			t.Errorf("ResolveURI(%q) = %q, %q, %v; want %q, %q, %v", c.in, id, uri, ok, c.id, c.uri, c.ok)
		}
	}
}

func roundTrips(id, server, uri string) bool {
	id = Sanitize(id)
	got, back, ok := ResolveURI(ExposeURI(id, server, uri))
	tid, tback, tok := ResolveURITemplate(ExposeURITemplate(id, server, uri))
	return ok && got == id && back == uri && tok && tid == id && tback == uri
}

func TestURIRoundTripQuick(t *testing.T) {
	if err := quick.Check(roundTrips, &quick.Config{MaxCount: 5000}); err != nil {
		t.Error(err)
	}
	for _, u := range oddURIs {
		if !roundTrips("srv_1", "s p.a/c:e", u) {
			t.Errorf("%q does not round-trip", u)
		}
	}
}

func FuzzURIRoundTrip(f *testing.F) {
	for _, u := range oddURIs {
		f.Add("srv_3fa2b1c4d5e6", "my.weather", u)
	}
	f.Fuzz(func(t *testing.T, id, server, uri string) {
		if !roundTrips(id, server, uri) {
			t.Errorf("(%q, %q, %q) does not round-trip", id, server, uri)
		}
	})
}

// A URI made by expanding an exposed template (one the client never saw
// listed as a resource) routes back to the server and to what the child's
// own template gives for the same values.
func TestTemplateExpansionRoutesBack(t *testing.T) {
	values := uritemplate.Values{}
	values.Set("path", uritemplate.String("a b/ü/100%/x://y"))
	values.Set("q", uritemplate.String("{var} & more"))
	values.Set("segs", uritemplate.List("one", "t/wo", ""))
	values.Set("empty", uritemplate.String(""))
	for _, tmpl := range []string{
		"file:///{path}", "file:///{+path}", "db://{path}{?q,empty}{#path}", "x{/segs*}", "{+path}",
		"{path}://{q}", "weather://berlin/now", "", "notes://{empty}/{undefined}",
	} {
		child := expand(t, tmpl, values)
		id, uri, ok := ResolveURI(expand(t, ExposeURITemplate("srv_1", "My Files", tmpl), values))
		if !ok || id != "srv_1" || uri != child {
			t.Errorf("%q: exposed expansion resolves to %q, %q, %v; want srv_1, %q", tmpl, id, uri, ok, child)
		}
	}
}

func expand(t *testing.T, tmpl string, values uritemplate.Values) string {
	t.Helper()
	tp, err := uritemplate.New(tmpl)
	if err != nil {
		t.Fatalf("template %q: %v", tmpl, err)
	}
	s, err := tp.Expand(values)
	if err != nil {
		t.Fatalf("expanding %q: %v", tmpl, err)
	}
	return s
}
