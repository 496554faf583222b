package main

import (
	"fmt"
	"net"
	"net/http"
	"time"
)

// fetchAndAnalyse is the original Meta-MCP-Server's "fetch and analyse"
// workflow, against a local site: orchestrate servers by capability, scrape
// a page, call a JSON API, and summarise the data.
func (d *demo) fetchAndAnalyse(site string, _ time.Time) error {
	d.heading("3. Orchestrate a task: fetch and analyse product data")
	out, err := d.call("orchestrate_task", map[string]any{
		"task_description":      "Fetch the product catalogue and analyse prices",
		"required_capabilities": []string{"web_scraping", "api_client", "data_analysis"},
	})
	if err != nil {
		return err
	}
	d.say("orchestrate_task → %v: %v", out["status"], out["message"])
	ids := map[string]string{}
	for _, s := range out["spawned_servers"].([]any) {
		m := s.(map[string]any)
		ids[m["capability"].(string)] = m["server_id"].(string)
		d.say("  %-14s → %s (%s) tools %v", m["capability"], m["server_id"], m["template"], m["tools"])
	}

	page, err := d.exec(ids["web_scraping"], "fetch_url", map[string]any{"url": site + "/products.html"})
	if err != nil {
		return err
	}
	d.say("fetch_url %s → HTTP %v, %v, %v bytes", site+"/products.html", page["status_code"], page["content_type"], page["length"])
	names, err := d.exec(ids["web_scraping"], "extract_data", map[string]any{"html": page["content"], "selector": ".product .name"})
	if err != nil {
		return err
	}
	d.say("extract_data \".product .name\" → %v items: %v", names["count"], names["data"])

	api, err := d.exec(ids["api_client"], "make_request", map[string]any{"url": site + "/api/products.json"})
	if err != nil {
		return err
	}
	d.say("make_request GET /api/products.json → HTTP %v", api["status_code"])
	summary, err := d.exec(ids["data_analysis"], "summarize_data", map[string]any{"data": api["json"]})
	if err != nil {
		return err
	}
	price := summary["fields"].(map[string]any)["price"].(map[string]any)["numeric"].(map[string]any)
	d.say("summarize_data → %v records; price min %v, max %v, mean %.2f", summary["count"], price["min"], price["max"], price["mean"])
	cheap, err := d.exec(ids["data_analysis"], "filter_data", map[string]any{"data": api["json"], "key": "category", "value": "tools"})
	if err != nil {
		return err
	}
	d.say("filter_data category=tools → %v of %v records", cheap["count"], cheap["original_count"])
	return nil
}

func (d *demo) overview(string, time.Time) error {
	d.heading("4. What is running")
	list, err := d.call("list_servers", nil)
	if err != nil {
		return err
	}
	d.say("%-18s %-22s %-9s %-7s %s", "SERVER", "TEMPLATE", "STATUS", "PID", "POOLED")
	for _, s := range list["servers"].([]any) {
		m := s.(map[string]any)
		d.say("%-18s %-22s %-9s %-7v %v", m["server_id"], m["template"], m["status"], m["pid"], m["pooled"])
	}
	health, err := d.call("health_check_all", nil)
	if err != nil {
		return err
	}
	d.say("\nhealth_check_all → %v of %v healthy (max %v servers)", health["healthy"], health["total_servers"], health["max_servers"])
	for _, s := range health["servers"].([]any) {
		m := s.(map[string]any)
		rss := "rss n/a"
		if v, ok := m["rss_mb"].(float64); ok {
			rss = fmt.Sprintf("rss %.1f MB", v)
		}
		via := ""
		if age, ok := m["ping_age_ms"].(float64); ok {
			via = fmt.Sprintf(" (from a %v %.0f ms ago)", m["ping_via"], age)
		}
		d.say("  %s ping %.2f ms%s, %s, %v calls", m["server_id"], num(m["ping_ms"]), via, rss, m["calls_total"])
	}
	events, err := d.call("get_event_history", map[string]any{"limit": 1000})
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, e := range events["events"].([]any) {
		counts[e.(map[string]any)["event"].(string)]++
	}
	d.say("\nget_event_history → %v events: %v", events["total_in_history"], counts)
	return nil
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

func (d *demo) stopAll(string, time.Time) error {
	d.heading("5. Stop everything")
	out, err := d.call("stop_all_servers", nil)
	if err != nil {
		return err
	}
	d.say("stop_all_servers → stopped %v, errors %v", out["total_stopped"], out["total_errors"])
	return nil
}

// startDemoSite serves a small product catalogue on loopback.
func startDemoSite() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/products.html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><body><h1>Catalogue</h1>
<div class="product"><span class="name">Hammer</span> <span class="price">12.50</span></div>
<div class="product"><span class="name">Screwdriver</span> <span class="price">7.25</span></div>
<div class="product"><span class="name">Lamp</span> <span class="price">30.00</span></div>
</body></html>`)
	})
	mux.HandleFunc("/api/products.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"name":"Hammer","price":12.5,"category":"tools"},
{"name":"Screwdriver","price":7.25,"category":"tools"},
{"name":"Lamp","price":30,"category":"home"}]`)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return "http://" + ln.Addr().String(), func() { srv.Close(); <-done }, nil
}
