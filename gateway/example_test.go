package gateway_test

import (
	"fmt"

	"github.com/metamcp/metamcp/gateway"
)

func ExampleNewTable() {
	meta := map[string]bool{"create_server": true, "execute_on_server": true}
	tools := gateway.NewTable([]gateway.Ref{
		{ServerID: "srv_3fa2b1c4d5e6", Server: "my.weather", Name: "get weather"},
		{ServerID: "srv_5d6e7f809a1b", Server: "calc", Name: "add"},
		{ServerID: "srv_0a1b2c3d4e5f", Server: "calc", Name: "add"},
	}, meta)
	for _, name := range []string{"my_weather__get_weather", "calc__add", "calc__add_9376ab25", "calc__mul"} {
		ref, ok := tools.Lookup(name)
		fmt.Printf("%s: %v %s %q\n", name, ok, ref.ServerID, ref.Name)
	}
	// Output:
	// my_weather__get_weather: true srv_3fa2b1c4d5e6 "get weather"
	// calc__add: true srv_0a1b2c3d4e5f "add"
	// calc__add_9376ab25: true srv_5d6e7f809a1b "add"
	// calc__mul: false  ""
}

func ExampleExposeURI() {
	uri := gateway.ExposeURI("srv_3fa2b1c4d5e6", "My Files", "file:///tmp/notes.txt")
	fmt.Println(uri)
	fmt.Println(gateway.ResolveURI(uri))
	// A template is exposed the same way, so what a client expands from it
	// routes back as well.
	fmt.Println(gateway.ExposeURITemplate("srv_3fa2b1c4d5e6", "My Files", "file:///{+path}"))
	fmt.Println(gateway.ResolveURI("metamcp://my_files.srv_3fa2b1c4d5e6/file:///tmp/a%20b"))
	// Output:
	// metamcp://my_files.srv_3fa2b1c4d5e6/file:///tmp/notes.txt
	// srv_3fa2b1c4d5e6 file:///tmp/notes.txt true
	// metamcp://my_files.srv_3fa2b1c4d5e6/file:///{+path}
	// srv_3fa2b1c4d5e6 file:///tmp/a%20b true
}
