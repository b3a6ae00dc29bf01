package pacing_test

import (
	"fmt"
	"log"

	"libpacing.invalid/pacing"
)

// The first session of docs/bindings.md, compiled by `go test` (and run:
// its output is checked).
func Example() {
	ctx, err := pacing.New(pacing.WithSeed(1), pacing.WithCapacity(10000))
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()
	cta, err := ctx.AddPoint(pacing.PointSpec{
		Name: "checkout_cta", Actions: []string{"show_now", "delay", "skip"},
		Policy: "thompson", QuietActions: []string{"delay", "skip"}, SafeAction: "delay",
		Rewards: []pacing.RewardRule{{Module: "conversion", Weight: 1}},
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := ctx.AddRule(pacing.RuleSpec{Module: "min_gap", Point: "checkout_cta",
		Params: map[string]float64{"gap_ms": 20000}}); err != nil {
		log.Fatal(err)
	}
	if _, err := ctx.Push(pacing.Event{Type: pacing.EventSessionStart, User: "u1", TimeMs: 0}); err != nil {
		log.Fatal(err)
	}
	d, err := ctx.Decide(pacing.Request{Point: cta, User: "u1", NowMs: 15000})
	if err != nil {
		log.Fatal(err)
	}
	why, err := ctx.Explain(d)
	if err != nil {
		log.Fatal(err)
	}
	if d.ID != 0 {
		if err := ctx.Reward(d.ID, 1, 20000); err != nil {
			log.Fatal(err)
		}
	}
	s, err := ctx.Scores("u1", 20000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(why != "", s.Fatigue >= 0 && s.Fatigue <= 1)
	// Output: true true
}
