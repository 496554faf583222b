// Package config loads metamcp's configuration: defaults, the JSON file
// meta_mcp_config.json, environment variables and command-line flags. It
// hands the rest of metamcp one merged, validated and normalised Config, or
// an error that names every bad setting and where it came from. It starts
// nothing and keeps no state: Load reads the file system and the
// environment once and returns.
//
// # Precedence
//
// Each key takes its value from the first of these that sets it:
//
//  1. command-line flags (Options.Flags, keyed by the JSON key; see Keys);
//  2. environment variables (table below; empty values are ignored);
//  3. the config file;
//  4. Defaults, the one place defaults are written.
//
// Each layer is checked on its own: a bad value stops startup even when a
// higher layer overrides it.
//
// # Which file
//
//  1. Options.File (the --config flag) if given; it must exist.
//  2. Else $MCP_CONFIG_FILE if set; it must exist.
//  3. Else $XDG_CONFIG_HOME/metamcp/meta_mcp_config.json or, when
//     XDG_CONFIG_HOME is unset or relative, the same under os.UserConfigDir
//     (~/.config on Unix, ~/Library/Application Support on macOS, %AppData%
//     on Windows), if it exists.
//  4. Else no file.
//
// Config.Source is the absolute path of the file read, "" for none.
//
// # Keys
//
// Numbers are whole numbers; ranges are inclusive. In the environment and in
// flags, lists are comma-separated with spaces trimmed.
//
//	key                      default          accepted                         environment
//	default_timeout_seconds  30               1..3600                          MCP_TIMEOUT_SECONDS
//	start_timeout_seconds    10               1..600                           -
//	default_max_memory_mb    512              16..1048576                      MCP_MAX_MEMORY_MB
//	max_concurrent_servers   10               1..1000                          MCP_MAX_SERVERS
//	pool_idle_ttl_seconds    300              1..86400                         -
//	pool_max_per_template    1                1..100                           -
//	event_history_size       10000            100..10000000                    -
//	event_retention_count    100000           100..100000000                   -
//	event_retention_days     30               1..3650                          -
//	http_timeout_seconds     30               1..3600                          -
//	http_max_body_bytes      5242880 (5 MiB)  1024..1073741824 (1 GiB)         -
//	log_level                INFO             DEBUG INFO WARN WARNING ERROR    MCP_LOG_LEVEL
//	log_file                 "" (stderr)      path                             -
//	allowed_commands         see below        non-empty list of commands       MCP_ALLOWED_COMMANDS
//	temp_directory           $TMPDIR/metamcp  non-empty path                   MCP_TEMP_DIR
//	state_directory          "" (see below)   path                             -
//	session                  default          1..64 of A-Z a-z 0-9 _ . -       -
//	restore_servers          true             true false                       -
//	file_base_directory      "" (see below)   path                             -
//	env_passthrough          []               variable names                   -
//	allowed_directories      [] (see below)   absolute paths                   -
//	restart_policy           permanent        permanent transient temporary    -
//	restart_initial_backoff_ms 100            1..600000                        -
//	restart_max_backoff_ms   30000            1..3600000                       -
//	restart_backoff_factor   2                1..10                            -
//	restart_max_restarts     5                1..1000                          -
//	restart_window_seconds   60               1..86400                         -
//	restart_stable_seconds   60               1..86400                         -
//	memory_check_interval_ms 1000             50..60000                        -
//	process_shim             auto             auto on off                      -
//	mode                     both             meta gateway both                METAMCP_MODE
//	expose_tools             true             true false                       -
//	start_servers            []               template names, "*"              -
//
// The default allowed_commands is python, python3, node, npm, npx, metamcp.
// Each entry is a plain command name or an absolute path; empty or
// space-only entries and relative paths ("./x", "bin/x") are rejected.
// temp_directory defaults to filepath.Join(os.TempDir(), "metamcp").
// file_base_directory "" means a per-server directory under temp_directory.
// state_directory holds one directory per session with what outlives a run
// (the event store, events.db; see SessionDir); "" means
// $XDG_STATE_HOME/metamcp when XDG_STATE_HOME is set and absolute, else
// ~/.local/state/metamcp. event_history_size is how many recent events are
// also kept in memory; event_retention_count and event_retention_days bound
// the store: older events are pruned, by whichever limit is reached first.
// session names the directory under state_directory this instance uses (the
// serve flag --session); a second instance of a session is refused.
// restore_servers true starts again, under their server_ids, the servers
// the session's last run had when it ended (serve --no-restore sets it
// false). Booleans are JSON true/false; in flags also 1/0, t/f.
// env_passthrough entries match [A-Za-z_][A-Za-z0-9_]*.
// allowed_directories are where create_server's script_path and cwd may
// point; temp_directory is always allowed, and [] allows nothing else.
// The restart_* keys are the default supervision policy (docs/supervision.md);
// create_server's config.restart overrides them per server. process_shim
// "on" runs each child under a small metamcp shim (Linux, macOS), so that no
// descendant outlives metamcp; "off" starts children directly (on Linux a
// guardian process covers them); "auto" is "on" on macOS, "off" elsewhere.
// mode is what the client is offered (docs/gateway.md): "meta" the meta
// tools only, "gateway" the servers' own tools, resources and prompts only,
// "both" both; it is case-insensitive (the serve flag --mode). expose_tools
// false leaves the servers' own tools out of the list in gateway and both
// modes (resources and prompts stay). start_servers are started at
// start-up, each as a server named after its template, under a server_id
// that is the same on every run; "*" stands for every configured template.
// They are not recorded for restore: the configuration starts them.
//
// log_level is case-insensitive and normalised to upper case, WARNING to
// WARN. Relative paths (temp_directory, state_directory,
// file_base_directory, log_file and a template's cwd) are made absolute:
// against the config file's directory when they come from the file, against
// the working directory when they come from the environment or a flag. "~"
// is not expanded.
//
// # File format
//
// The file is one JSON object (a leading UTF-8 byte order mark is allowed).
// Besides the keys above it may hold:
//
//	"templates":  {NAME: {"command", "args", "env", "cwd", "capabilities", "description", "tools"}}
//	"mcpServers": {NAME: {"command", "args", "env", ...}}
//
// Both become Config.Templates, sorted by name. NAME is 1 to 64 characters
// from A-Z a-z 0-9 _ . -; "command" is required and non-empty;
// "capabilities" entries are non-empty strings; "env" maps names (non-empty,
// no "=") to strings; "tools" is {"allow": [GLOB...], "deny": [GLOB...]}
// (ToolFilter: non-empty path.Match patterns, a malformed one is an error
// naming it), the filter of the servers of this template that have none of
// their own. A name may not appear in both maps.
//
// Strictness: an unknown key, a key given twice, a value of the wrong type
// (null included) or out of range, and a file that is not a JSON object all
// stop startup with an error naming the file and the key, and the line and
// column for syntax errors:
//
//	config /path/x.json: unknown key "max_servers"
//	config /path/x.json: "max_concurrent_servers": must be between 1 and 1000, got 0
//	config /path/x.json: template "db": unknown key "comand"
//	environment MCP_MAX_SERVERS: must be a whole number, got "abc"
//	flag "log_level": must be one of DEBUG, INFO, WARN (or WARNING), ERROR, got "loud"
//
// "templates" entries are strict: an unknown key is an error.
//
// # Claude Desktop compatibility
//
// metamcp can read Claude Desktop's claude_desktop_config.json as is.
// "mcpServers" entries are hand-written, so they are read leniently: only
// "command", "args", "env", "cwd" and "disabled" are read; other keys
// ("type", "description", ...) and null values are ignored; an entry with
// "disabled": true is skipped without further checks. Known types are still
// enforced (a number for "args" is an error). When the file has
// "mcpServers", Claude Desktop's own top-level keys globalShortcut,
// preferences, isDxtAutoUpdatesEnabled, dxt and extensions are ignored; any
// other unknown top-level key is still an error.
//
// Recursion guard: such a file usually also lists metamcp itself. An
// "mcpServers" entry whose command's base name is metamcp or metamcp.exe
// (in any case, after / or \) and whose first argument is "serve" is
// skipped and its name recorded in Config.Skipped, so metamcp never offers
// itself as a template. "templates" entries are never skipped.
//
// # Errors
//
// Load reports every problem in every layer at once, joined with
// errors.Join. Each matches one sentinel of errors.go under errors.Is:
// ErrFileNotFound, ErrMalformed, ErrUnknownKey, ErrBadValue or
// ErrDuplicateTemplate.
package config
