package main

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/metamcp/metamcp/actors"
	"github.com/metamcp/metamcp/config"
	"github.com/metamcp/metamcp/templates"
)

// startList is start_servers with "*" expanded to every configured
// template, each once; a name that is no template is an error naming it.
func startList(cfg *config.Config, catalog *templates.Catalog) ([]string, error) {
	var names []string
	for _, n := range cfg.StartServers {
		if n == "*" {
			for _, t := range cfg.Templates {
				names = append(names, t.Name)
			}
			continue
		}
		if _, ok := catalog.Lookup(n); !ok {
			return nil, fmt.Errorf("start_servers: %q is not a template (templates: %v)", n, catalog.Names())
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// startServers starts the listed templates concurrently, in the
// background; a failure is logged (and recorded by the actors as usual).
// The returned wait blocks until every start has been answered, or for at
// most a second once the system is shut down: a create caught by the
// shutdown may never be answered, and its goroutine then ends at its
// timeout, or with the process.
func startServers(sys *actors.System, names []string, log zerolog.Logger) (wait func()) {
	var wg sync.WaitGroup
	timeout := sys.Config().StartTimeout() + 5*time.Second
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := sys.Ask(&actors.CreateServer{Request: actors.ConfiguredServer(name)}, timeout); err != nil {
				log.Error().Err(err).Str("template", name).Msg("start_servers: server not started")
				return
			}
			log.Info().Str("template", name).Msg("start_servers: server started")
		}()
	}
	return func() {
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Second):
		}
	}
}
