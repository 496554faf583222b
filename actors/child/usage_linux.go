//go:build linux

package child

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// ScanUsage reads /proc once and returns every process's resident memory
// and CPU time by process group. One scan serves every server.
func ScanUsage() (Usage, error) {
	u := Usage{At: time.Now(), Groups: map[int][]ProcUsage{}}
	d, err := os.Open("/proc")
	if err != nil {
		return u, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return u, err
	}
	buf := make([]byte, 1024)
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		pgrp, p, ok := readUsage(pid, buf)
		if ok {
			u.Groups[pgrp] = append(u.Groups[pgrp], p)
		}
	}
	return u, nil
}

// readUsage parses pgrp (field 5), utime and stime (14, 15) and rss (24)
// from /proc/PID/stat.
func readUsage(pid int, buf []byte) (int, ProcUsage, bool) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, ProcUsage{}, false
	}
	n, _ := f.Read(buf)
	f.Close()
	b := buf[:n]
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, ProcUsage{}, false
	}
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 22 {
		return 0, ProcUsage{}, false
	}
	num := func(k int) int64 {
		v, _ := strconv.ParseInt(string(fields[k]), 10, 64)
		return v
	}
	ticks := num(11) + num(12)
	return int(num(2)), ProcUsage{PID: pid, RSSBytes: num(21) * pageSize,
		CPU: time.Duration(ticks) * time.Second / clockTicks}, true
}
