package pacing_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"libpacing.invalid/pacing"
)

func newCtx(t *testing.T, opts ...pacing.Option) *pacing.Context {
	t.Helper()
	c, err := pacing.New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// addCTA adds the point "cta" {show_now, delay} (delay quiet and safe) and a
// min_gap rule of 20 s on it.
func addCTA(t *testing.T, c *pacing.Context) uint32 {
	t.Helper()
	pt, err := c.AddPoint(pacing.PointSpec{
		Name:         "cta",
		Actions:      []string{"show_now", "delay"},
		Policy:       "thompson",
		Attribution:  10 * time.Minute,
		QuietActions: []string{"delay"},
		SafeAction:   "delay",
	})
	if err != nil {
		t.Fatalf("AddPoint: %v", err)
	}
	if _, err := c.AddRule(pacing.RuleSpec{Module: "min_gap", Point: "cta",
		Params: map[string]float64{"gap_ms": 20000}}); err != nil {
		t.Fatalf("AddRule: %v", err)
	}
	return pt
}

func TestVersion(t *testing.T) {
	if pacing.Version() != pacing.HeaderVersion {
		t.Errorf("library %s, header %s", pacing.Version(), pacing.HeaderVersion)
	}
}

func TestLifecycle(t *testing.T) {
	c, err := pacing.New(pacing.WithCapacity(16), pacing.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil { // double Close is a no-op
		t.Fatal(err)
	}
	if _, err := c.Push(pacing.Event{Type: pacing.EventClick, User: "u"}); !errors.Is(err, pacing.ErrClosed) {
		t.Errorf("Push after Close: %v, want ErrClosed", err)
	}
	if _, err := c.Stats(); !errors.Is(err, pacing.ErrClosed) {
		t.Errorf("Stats after Close: %v", err)
	}
	var nilCtx *pacing.Context
	if _, err := nilCtx.Decide(pacing.Request{User: "u"}); !errors.Is(err, pacing.ErrClosed) {
		t.Errorf("Decide on nil: %v", err)
	}
	if err := nilCtx.Close(); err != nil {
		t.Errorf("Close on nil: %v", err)
	}

	// A context left to the garbage collector is freed by the finalizer.
	for i := 0; i < 10; i++ {
		if _, err := pacing.New(pacing.WithCapacity(16)); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.GC()
}

func TestPushScoresFatigueRises(t *testing.T) {
	c := newCtx(t, pacing.WithSeed(1))
	user := "alice"
	if ok, err := c.Push(pacing.Event{Type: pacing.EventSessionStart, User: user, Channel: pacing.ChannelWeb}); err != nil || !ok {
		t.Fatalf("Push: %v %v", ok, err)
	}
	before, err := c.Scores(user, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// Prompts shown and dismissed: the clearest signs of fatigue.
	for i := int64(1); i <= 12; i++ {
		if _, err := c.Push(pacing.Event{Type: pacing.EventExposure, User: user, TimeMs: i * 5000}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Push(pacing.Event{Type: pacing.EventDismiss, User: user, TimeMs: i*5000 + 800}); err != nil {
			t.Fatal(err)
		}
	}
	after, err := c.Scores(user, 61000)
	if err != nil {
		t.Fatal(err)
	}
	if !(after.Fatigue > before.Fatigue) || after.Fatigue <= 0 || after.Fatigue > 1 {
		t.Errorf("fatigue %.3f -> %.3f, want a rise within (0, 1]", before.Fatigue, after.Fatigue)
	}
	if after.Exposures1m == 0 {
		t.Errorf("exposures_1m = 0")
	}
	contrib, err := c.Contributions(user, 61000, pacing.ScoreFatigue)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, x := range contrib {
		sum += x.Contribution
	}
	if len(contrib) == 0 || math.Abs(sum-after.Fatigue) > 1e-9 {
		t.Errorf("contributions sum %.6f, fatigue %.6f (%v)", sum, after.Fatigue, contrib)
	}
	if contrib[0].Input != pacing.InputDismissals && contrib[0].Input != pacing.InputRecentExposures {
		t.Logf("top fatigue input: %v", contrib[0].Input)
	}

	// The same user by pseudonym.
	ps, err := c.Pseudonym(user)
	if err != nil || ps == 0 {
		t.Fatalf("Pseudonym: %d %v", ps, err)
	}
	byP, err := c.ScoresByPseudonym(ps, 61000)
	if err != nil || byP != after {
		t.Errorf("ScoresByPseudonym: %+v %v, want %+v", byP, err, after)
	}

	// A bot's event is dropped, not an error.
	if ok, err := c.Push(pacing.Event{Type: pacing.EventClick, User: "bot", TimeMs: 1, Flags: pacing.EventBot}); ok || err != nil {
		t.Errorf("bot push: %v %v", ok, err)
	}
	// A batch.
	n, err := c.PushBatch([]pacing.Event{
		{Type: pacing.EventDwell, User: "bob", TimeMs: 10, Value: 3000},
		{Type: pacing.EventScrollDepth, User: "bob", TimeMs: 20, Value: 0.5},
		{Type: pacing.EventClick, Pseudonym: ps, TimeMs: 61000, Value: 100},
	})
	if err != nil || n != 3 {
		t.Errorf("PushBatch: %d %v", n, err)
	}
	st, err := c.Stats()
	if err != nil || st.Users != 2 || st.EventsDroppedBot != 1 {
		t.Errorf("Stats: %+v %v", st, err)
	}
	if err := c.Forget("bob"); err != nil {
		t.Error(err)
	}
	if err := c.Forget("bob"); !errors.Is(err, pacing.ErrNotFound) {
		t.Errorf("second Forget: %v", err)
	}
}

func TestErrors(t *testing.T) {
	c := newCtx(t)
	cases := []struct {
		name string
		ev   pacing.Event
		want error
		msg  string
	}{
		{"nan", pacing.Event{Type: pacing.EventDwell, User: "u", Value: math.NaN()}, pacing.ErrNaN, ""},
		{"range", pacing.Event{Type: pacing.EventScrollDepth, User: "u", Value: 2}, pacing.ErrRange, "scroll_depth"},
		{"type", pacing.Event{Type: 999, User: "u"}, pacing.ErrType, ""},
		{"time", pacing.Event{Type: pacing.EventClick, User: "u", TimeMs: -5}, pacing.ErrTime, ""},
		{"flags", pacing.Event{Type: pacing.EventClick, User: "u", Flags: pacing.EventWithConsent | pacing.EventNoConsent}, pacing.ErrInvalid, ""},
		{"both ids", pacing.Event{Type: pacing.EventClick, User: "u", Pseudonym: 7}, pacing.ErrInvalid, "not both"},
		{"no user", pacing.Event{Type: pacing.EventClick}, nil, ""},
	}
	for _, tc := range cases {
		_, err := c.Push(tc.ev)
		var pe *pacing.Error
		if !errors.As(err, &pe) {
			t.Errorf("%s: %v is not a *pacing.Error", tc.name, err)
			continue
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v (status %d), want %v", tc.name, err, pe.Status, tc.want)
		}
		if pe.Msg == "" || !strings.HasPrefix(err.Error(), "pacing: ") {
			t.Errorf("%s: no message: %q", tc.name, err.Error())
		}
		if tc.msg != "" && !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("%s: message %q lacks %q", tc.name, pe.Msg, tc.msg)
		}
		if errors.Is(err, pacing.ErrCorrupt) {
			t.Errorf("%s: matched the wrong sentinel", tc.name)
		}
	}
	if _, err := c.Scores("nobody", 0); !errors.Is(err, pacing.ErrNotFound) {
		t.Errorf("Scores(nobody): %v", err)
	}
	if err := c.Reward(12345, 1, 0); !errors.Is(err, pacing.ErrNotFound) {
		t.Errorf("Reward(unknown): %v", err)
	}
	_, err := c.AddPoint(pacing.PointSpec{Name: "p", Actions: []string{"a", "b"}, Policy: "thompsn"})
	if !errors.Is(err, pacing.ErrNotFound) || !strings.Contains(err.Error(), "thompsn") {
		t.Errorf("unknown policy: %v", err)
	}
	_, err = c.AddPoint(pacing.PointSpec{Name: "p", Actions: []string{"a"}, Policy: "thompson"})
	if !errors.Is(err, pacing.ErrInvalid) {
		t.Errorf("one action: %v", err)
	}
	_, err = c.AddPoint(pacing.PointSpec{Name: "p", Actions: []string{"a", "b"}, Policy: "thompson",
		RecoveryDecay: "linear", RecoveryParams: []float64{1}})
	if !errors.Is(err, pacing.ErrInvalid) {
		t.Errorf("3 recovery params: %v", err)
	}
	_, err = c.AddPoint(pacing.PointSpec{Name: "p\x00", Actions: []string{"a", "b"}})
	if !errors.Is(err, pacing.ErrInvalid) {
		t.Errorf("NUL in name: %v", err)
	}
	if _, err := c.AddRule(pacing.RuleSpec{Module: "min_gap", Params: map[string]float64{"gap": 1}}); !errors.Is(err, pacing.ErrInvalid) {
		t.Errorf("unknown rule param: %v", err)
	}
	if _, err := c.Decide(pacing.Request{Point: 9, User: "u"}); !errors.Is(err, pacing.ErrNotFound) {
		t.Errorf("Decide(no point): %v", err)
	}
	if _, err := pacing.New(pacing.WithStripes(3)); err == nil || errors.Is(err, pacing.ErrClosed) {
		t.Errorf("New(stripes 3): %v", err)
	} else {
		t.Logf("New(stripes 3): %v", err)
	}
	if err := c.SnapshotLoad(filepath.Join(t.TempDir(), "missing.snap")); !errors.Is(err, pacing.ErrIO) {
		t.Errorf("SnapshotLoad(missing): %v", err)
	}
	// Status values print the library's descriptions.
	if pacing.StatusNotFound.String() == "" || pacing.ErrVetoed.Error() == "" {
		t.Error("empty status text")
	}
}

func TestMinGapDecisionsAndExplain(t *testing.T) {
	c := newCtx(t, pacing.WithSeed(3))
	pt := addCTA(t, c)
	if id, err := c.PointID("cta"); err != nil || id != pt {
		t.Fatalf("PointID: %d %v", id, err)
	}
	if c.ActionName(pt, 0) != "show_now" || c.ActionName(pt, 7) != "" {
		t.Errorf("ActionName: %q %q", c.ActionName(pt, 0), c.ActionName(pt, 7))
	}
	// "delay" asleep: the policy can only pick show_now.
	req := pacing.Request{Point: pt, User: "carol", NowMs: 1000, Ineligible: 1 << 1, Channel: pacing.ChannelWeb}
	d, err := c.Decide(req)
	if err != nil {
		t.Fatal(err)
	}
	if d.ActionName != "show_now" || d.ID == 0 || d.Propensity <= 0 || d.Propensity > 1 {
		t.Fatalf("first decision: %+v", d)
	}
	// 5 s later min_gap forbids showing: the safe action is returned (it
	// must be eligible for that, so this request leaves "delay" awake).
	req.NowMs = 6000
	req.Ineligible = 0
	d2, err := c.Decide(req)
	if err != nil {
		t.Fatal(err)
	}
	if d2.ActionName != "delay" || !d2.Reasons.Has(pacing.ReasonSafe) || !d2.Reasons.Has(pacing.ReasonVetoed) {
		t.Fatalf("second decision: %+v (%v)", d2, d2.Reasons)
	}
	if len(d2.Vetoes) == 0 || d2.Vetoes[0].Action != 0 || d2.Vetoes[0].Verdict == pacing.VerdictAllow {
		t.Errorf("vetoes: %+v", d2.Vetoes)
	}
	why, err := c.Explain(d2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(why, "min_gap") {
		t.Errorf("explanation %q lacks min_gap", why)
	}
	t.Logf("explain: %s", why)
	if !strings.Contains(d2.Reasons.String(), "safe") {
		t.Errorf("Reasons.String() = %q", d2.Reasons.String())
	}
	// After the gap, showing is allowed again.
	req.NowMs = 30000
	req.Ineligible = 1 << 1
	d3, err := c.Decide(req)
	if err != nil || d3.ActionName != "show_now" {
		t.Fatalf("third decision: %+v %v", d3, err)
	}
	if _, err := c.Explain(pacing.Decision{Point: 42}); !errors.Is(err, pacing.ErrNotFound) {
		t.Errorf("Explain(unknown point): %v", err)
	}
}

func TestRewardArmStatsAndLog(t *testing.T) {
	c := newCtx(t, pacing.WithSeed(5))
	pt := addCTA(t, c)
	d, err := c.Decide(pacing.Request{Point: pt, User: "dave", NowMs: 1000, Ineligible: 1 << 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Reward(d.ID, 1, 2000); err != nil {
		t.Fatal(err)
	}
	if err := c.Reward(d.ID, 1, 2000); !errors.Is(err, pacing.ErrNotFound) {
		t.Errorf("second Reward: %v", err)
	}
	as, err := c.ArmStats(pt, d.Action)
	if err != nil {
		t.Fatal(err)
	}
	if as.Decisions != 1 || as.Rewards != 1 || as.RewardSum != 1 || as.ParamAName == "" {
		t.Errorf("ArmStats: %+v", as)
	}
	if _, err := c.ArmStats(pt, 5); !errors.Is(err, pacing.ErrNotFound) {
		t.Errorf("ArmStats(no action): %v", err)
	}
	// A second decision left to expire.
	if _, err := c.Decide(pacing.Request{Point: pt, User: "erin", NowMs: 1000, Ineligible: 1 << 1}); err != nil {
		t.Fatal(err)
	}
	n, err := c.Settle(1000 + 11*60*1000)
	if err != nil || n != 1 {
		t.Errorf("Settle: %d %v", n, err)
	}
	ds, err := c.DecisionStats()
	if err != nil || ds.Decisions != 2 || ds.RewardsExplicit != 1 || ds.Pending != 0 {
		t.Errorf("DecisionStats: %+v %v", ds, err)
	}
	entries, dropped, err := c.Log()
	if err != nil || dropped != 0 || len(entries) != 2 {
		t.Fatalf("Log: %d entries, %d dropped, %v", len(entries), dropped, err)
	}
	if entries[0].ID != d.ID || entries[0].Outcome != pacing.OutcomeRewarded || entries[0].Reward != 1 {
		t.Errorf("log entry: %+v", entries[0])
	}
	if entries[1].Outcome != pacing.OutcomeExpired {
		t.Errorf("log entry 2: %+v (%v)", entries[1], entries[1].Outcome)
	}
	if again, _, _ := c.Log(); len(again) != 0 {
		t.Errorf("Log did not drain: %d", len(again))
	}
}

func TestLogLongerThanOneChunk(t *testing.T) {
	c := newCtx(t, pacing.WithSeed(9))
	pt := addCTA(t, c)
	const n = 600 // more than the binding's 256-entry read buffer
	for i := 0; i < n; i++ {
		d, err := c.Decide(pacing.Request{Point: pt, User: "u" + strings.Repeat("x", i%7) + string(rune('a'+i%26)), NowMs: int64(i) * 100000, Ineligible: 2})
		if err != nil {
			t.Fatal(err)
		}
		if d.ID != 0 {
			if err := c.Reward(d.ID, 0.5, int64(i)*100000+1); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries, _, err := c.Log()
	if err != nil || len(entries) != n {
		t.Fatalf("Log: %d entries, %v", len(entries), err)
	}
	for i := 1; i < len(entries); i++ {
		if entries[i].TimeMs < entries[i-1].TimeMs {
			t.Fatalf("log out of order at %d", i)
		}
	}
}

func TestYAML(t *testing.T) {
	c, err := pacing.NewFromYAML("../../examples/config/web-checkout.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pt, err := c.PointID("checkout_cta")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(pacing.Event{Type: pacing.EventSessionStart, User: "frank", Flags: pacing.EventWithConsent}); err != nil {
		t.Fatal(err)
	}
	d, err := c.Decide(pacing.Request{Point: pt, User: "frank", NowMs: 1000, Flags: pacing.RequestConsent})
	if err != nil {
		t.Fatal(err)
	}
	if d.ActionName == "" || d.PointName != "checkout_cta" {
		t.Errorf("decision without names: %+v", d)
	}
	// The points of a YAML file, by id.
	if n := c.PointCount(); n != 2 || c.PointName(1) != "upsell_banner" || c.PointName(2) != "" {
		t.Errorf("points: %d, %q, %q", n, c.PointName(1), c.PointName(2))
	}
	if acts := c.Actions(pt); len(acts) != 3 || acts[0] != "show_now" || c.Actions(9) != nil {
		t.Errorf("Actions: %v", acts)
	}
	if _, err := c.PointID("nope"); !errors.Is(err, pacing.ErrNotFound) {
		t.Errorf("PointID(nope): %v", err)
	}

	// A bad configuration string: the error names the place.
	bad := "version: 1\npoints:\n  - name: cta\n    actions: [a, b]\n    polcy: thompson\n"
	_, err = pacing.NewFromYAMLString(bad)
	var pe *pacing.Error
	if !errors.Is(err, pacing.ErrConfig) || !errors.As(err, &pe) {
		t.Fatalf("bad YAML string: %v", err)
	}
	if pe.Line != 5 || pe.File != "<string>" || !strings.Contains(pe.Msg, "polcy") {
		t.Errorf("bad YAML string: line %d file %q msg %q", pe.Line, pe.File, pe.Msg)
	}
	if !strings.Contains(err.Error(), "<string>:5:") {
		t.Errorf("Error() = %q", err.Error())
	}

	// The same in a file.
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("version: 1\noptions:\n  capacity: lots\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = pacing.NewFromYAML(path)
	if !errors.Is(err, pacing.ErrConfig) || !errors.As(err, &pe) || pe.Line != 3 || pe.File != path {
		t.Errorf("bad YAML file: %v (%+v)", err, pe)
	}
	if _, err := pacing.NewFromYAML(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, pacing.ErrIO) {
		t.Errorf("missing YAML file: %v", err)
	}

	// A single-thread configuration, serialized by the binding.
	g, err := pacing.NewFromYAML("../../examples/config/game-tips.yaml", pacing.WithSingleThread())
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
}

func TestSnapshotRoundTrip(t *testing.T) {
	key := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	mk := func() (*pacing.Context, uint32) {
		c := newCtx(t, pacing.WithSecret(key), pacing.WithSeed(11))
		return c, addCTA(t, c)
	}
	a, pt := mk()
	for i := int64(0); i < 10; i++ {
		if _, err := a.Push(pacing.Event{Type: pacing.EventDismiss, User: "gina", TimeMs: i * 1000}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := a.Decide(pacing.Request{Point: pt, User: "gina", NowMs: 10000, Ineligible: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Reward(d.ID, 1, 11000); err != nil {
		t.Fatal(err)
	}
	want, _ := a.Scores("gina", 12000)
	wantArm, _ := a.ArmStats(pt, 0)

	path := filepath.Join(t.TempDir(), "state.snap")
	if err := a.SnapshotSave(path); err != nil {
		t.Fatal(err)
	}
	b, _ := mk()
	if err := b.SnapshotLoad(path); err != nil {
		t.Fatal(err)
	}
	got, err := b.Scores("gina", 12000)
	if err != nil || got != want {
		t.Errorf("scores after load: %+v %v, want %+v", got, err, want)
	}
	if arm, _ := b.ArmStats(pt, 0); arm != wantArm {
		t.Errorf("arm stats after load: %+v, want %+v", arm, wantArm)
	}

	// In memory, and damaged data is rejected without touching the context.
	data, err := a.SnapshotBytes()
	if err != nil || len(data) == 0 {
		t.Fatalf("SnapshotBytes: %d bytes, %v", len(data), err)
	}
	cc, _ := mk()
	if err := cc.SnapshotLoadBytes(data); err != nil {
		t.Fatal(err)
	}
	damaged := append([]byte(nil), data...)
	damaged[len(damaged)/2] ^= 0x55
	if err := cc.SnapshotLoadBytes(damaged); !errors.Is(err, pacing.ErrCorrupt) {
		t.Errorf("damaged snapshot: %v", err)
	}
	if err := cc.SnapshotLoadBytes(nil); err == nil {
		t.Error("empty snapshot accepted")
	}
	if got, _ := cc.Scores("gina", 12000); got != want {
		t.Errorf("scores after rejected load: %+v", got)
	}
	// A context of another configuration refuses the snapshot.
	other := newCtx(t, pacing.WithSecret(key))
	if err := other.SnapshotLoad(path); !errors.Is(err, pacing.ErrConfig) {
		t.Errorf("snapshot into another configuration: %v", err)
	}
}

func TestConcurrentGoroutines(t *testing.T) {
	t.Run("shared", func(t *testing.T) {
		concurrent(t, newCtx(t, pacing.WithSeed(13), pacing.WithCapacity(4096)))
	})
	// A single-thread context: the binding serializes the goroutines.
	t.Run("single_thread", func(t *testing.T) {
		concurrent(t, newCtx(t, pacing.WithSingleThread(), pacing.WithCapacity(4096)))
	})
}

func concurrent(t *testing.T, c *pacing.Context) {
	pt := addCTA(t, c)
	const workers, iters = 8, 300
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < iters; i++ {
				user := "w" + string(rune('a'+w)) + "-" + string(rune('a'+i%20))
				now := int64(i) * 1000
				if _, err := c.Push(pacing.Event{Type: pacing.EventDwell, User: user, TimeMs: now, Value: 1500}); err != nil {
					errs <- err
					return
				}
				d, err := c.Decide(pacing.Request{Point: pt, User: user, NowMs: now + 10})
				if err != nil {
					errs <- err
					return
				}
				if d.ID != 0 {
					if err := c.Reward(d.ID, float64(i%2), now+20); err != nil {
						errs <- err
						return
					}
				}
				if i%50 == 0 {
					if _, err := c.Scores(user, now+30); err != nil {
						errs <- err
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ds, err := c.DecisionStats()
	if err != nil || ds.Decisions != workers*iters {
		t.Errorf("DecisionStats: %+v %v", ds, err)
	}
	st, _ := c.Stats()
	if st.EventsApplied != workers*iters {
		t.Errorf("events applied %d, want %d", st.EventsApplied, workers*iters)
	}
}

// Close while other goroutines call: they get ErrClosed, nothing crashes.
func TestCloseWhileInUse(t *testing.T) {
	c, err := pacing.New(pacing.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	pt := addCTA(t, c)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				_, err := c.Decide(pacing.Request{Point: pt, User: "z" + string(rune('a'+w)), NowMs: int64(i)})
				if errors.Is(err, pacing.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	time.Sleep(20 * time.Millisecond)
	c.Close()
	wg.Wait()
}
