// Package templates owns metamcp's catalog of templates (what can be started
// as a child MCP server) and the five built-in template servers, compiled
// into the metamcp binary and into metamcp-templates (cmd/metamcp-templates),
// which links only this package and mcp-go's server so that a child starts
// fast.
//
// # Catalog
//
// Builtins lists the built-in templates; NewCatalog adds the configured ones
// and refuses a configured name that a built-in already uses (ErrNameTaken).
// A Catalog is immutable and safe for concurrent use.
//
// # Built-in servers
//
// NewServer(name, opts) returns the mcp-go server of one built-in template and
// Serve runs it over newline-delimited JSON-RPC (what `metamcp-templates NAME`
// and `metamcp template run NAME` do on stdin/stdout, one template per
// process). Args writes the command line after the binary (NAME and the
// flags of Options) and ParseArgs reads it; both binaries parse with it. An unknown name gives
// an error wrapping ErrUnknownTemplate. The servers and their tools:
//
//   - basic_calculator: add, subtract, multiply, divide (a, b: numbers).
//   - web_scraper_template: fetch_url (HTTP GET), extract_data (CSS selectors
//     over HTML, via goquery).
//   - file_handler_template: read_file, write_file, list_files, confined to
//     Options.BaseDir through os.Root: absolute paths, ".." and symlinks that
//     lead outside are refused.
//   - data_processor: parse_json, filter_data, summarize_data.
//   - api_integration: make_request (GET, POST, PUT, PATCH, DELETE, HEAD,
//     OPTIONS), parse_response.
//
// Promises every tool keeps:
//
//   - A successful call returns its result as structuredContent, matching the
//     tool's declared outputSchema (the server checks), and the same JSON as
//     a text content.
//   - Every failure, bad input included, is a tool result with isError set
//     and a message saying what to change. Handlers never panic on input and
//     never answer with a JSON-RPC error for it.
//   - HTTP tools speak only http and https, finish within Options.HTTPTimeout
//     (default 30s) or fail, and read at most Options.MaxBodyBytes (default
//     5 MiB) of a body, reporting truncated: true when they cut it. They do
//     not restrict which hosts are reached: any host the process can reach,
//     loopback and private addresses included.
//   - Nothing is written to the MCP output but protocol messages; diagnostics
//     go to stderr.
package templates
