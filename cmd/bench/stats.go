//go:build linux

package main

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// sample is a set of timings of one metric.
type sample []time.Duration

func (s sample) sorted() sample {
	c := append(sample(nil), s...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c
}

// q is the nearest-rank quantile (0 < p ≤ 1).
func (s sample) q(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := s.sorted()
	i := int(float64(len(c))*p+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(c) {
		i = len(c) - 1
	}
	return c[i]
}

func (s sample) median() time.Duration { return s.q(0.5) }
func (s sample) p90() time.Duration    { return s.q(0.9) }

// row is one line of the results table.
type row struct {
	Metric, Target, Median, P90, Result string
	Note                                string
}

// kind of comparison a target makes.
const (
	atMost  = iota // measured ≤ target passes
	atLeast        // measured ≥ target passes
	info           // no target
)

func verdict(k int, got, target float64) string {
	switch k {
	case atMost:
		if got <= target {
			return "pass"
		}
		return "MISS"
	case atLeast:
		if got >= target {
			return "pass"
		}
		return "MISS"
	}
	return "-"
}

func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case f < 1:
		return fmt.Sprintf("%.3f ms", f)
	case f < 100:
		return fmt.Sprintf("%.2f ms", f)
	}
	return fmt.Sprintf("%.0f ms", f)
}

// timed makes a row for a timing against a "≤ target" bound.
func timed(metric string, s sample, target time.Duration, note string) row {
	r := row{Metric: fmt.Sprintf("%s (n=%d)", metric, len(s)), Median: ms(s.median()), P90: ms(s.p90()), Note: note}
	if target > 0 {
		r.Target = "≤ " + ms(target)
		r.Result = verdict(atMost, float64(s.median()), float64(target))
	} else {
		r.Target, r.Result = "-", "-"
	}
	return r
}

func table(rows []row) string {
	var b strings.Builder
	b.WriteString("| metric | target | median | p90 | result |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.Metric, r.Target, r.Median, r.P90, r.Result)
	}
	return b.String()
}

func plainTable(rows []row) string {
	w := [5]int{6, 6, 6, 3, 6}
	cells := func(r row) [5]string { return [5]string{r.Metric, r.Target, r.Median, r.P90, r.Result} }
	for _, r := range rows {
		for i, c := range cells(r) {
			if n := len([]rune(c)); n > w[i] {
				w[i] = n
			}
		}
	}
	var b strings.Builder
	line := func(c [5]string) {
		for i, s := range c {
			b.WriteString(s + strings.Repeat(" ", w[i]-len([]rune(s))+2))
		}
		b.WriteString("\n")
	}
	line([5]string{"metric", "target", "median", "p90", "result"})
	for _, r := range rows {
		line(cells(r))
	}
	return b.String()
}
