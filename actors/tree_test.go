//go:build linux

package actors

import (
	"testing"
)

// The tree is read from the actors themselves: each answers for itself.
func TestDescribeTree(t *testing.T) {
	t.Parallel()
	ts := newTestSystem(t, nil)
	a := ts.create(t, "fake").Server.ServerID
	tmp := ts.createWith(t, &RestartConfig{Policy: Temporary})
	ts.endBy(t, tmp, "exit")
	ts.waitState(t, tmp, StateStopped)
	res, err := ts.ask(t, &DescribeTree{})
	if err != nil {
		t.Fatal(err)
	}
	root := res.(*TreeNode)
	if root.Name != "root" || root.Kind != "supervisor" || len(root.Children) != 5 {
		t.Fatalf("root %+v with %d children", root, len(root.Children))
	}
	byName := map[string]*TreeNode{}
	for _, c := range root.Children {
		byName[c.Name] = c
		if c.Error != "" {
			t.Errorf("%s: %s", c.Name, c.Error)
		}
	}
	for _, n := range []string{"events", "pool", "monitor"} {
		if c := byName[n]; c == nil || c.Kind != n || c.State != "running" || c.Detail == nil {
			t.Errorf("%s node: %+v", n, c)
		}
	}
	if ev := byName["events"]; ev != nil && ev.Detail["last_id"].(uint64) == 0 {
		t.Errorf("events node did not answer for itself: %+v", ev.Detail)
	}
	s := byName[a]
	if s == nil || s.Kind != "server" || s.State != StateRunning || s.Server == nil || s.Server.PID == 0 ||
		s.Detail["pid"] != s.Server.PID || s.Detail["generation"] == nil {
		t.Errorf("running server node: %+v", s)
	}
	if st := byName[tmp]; st == nil || st.State != StateStopped || st.Server.LastExit == nil || st.Detail != nil {
		t.Errorf("stopped server node (no actor to ask): %+v", st)
	}
}
