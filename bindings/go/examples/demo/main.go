// Command demo shows libpacing from Go: a shop asks, on every page view of
// its shoppers, whether to show a "complete your purchase" prompt now or to
// hold it back. The library scores each shopper's fatigue from their events,
// a Thompson-sampling bandit learns which answer pays, and a safety rule
// (at least 20 s between two prompts) has the last word.
//
// Run it from bindings/go, after `make` at the repository root:
//
//	go run ./examples/demo
package main

import (
	"errors"
	"fmt"
	"log"
	"math/rand"
	"time"

	"libpacing.invalid/pacing"
)

func main() {
	// A context holds every user's state, the decision points and the rules.
	// A fixed seed makes the bandit's choices repeatable. Close frees it.
	ctx, err := pacing.New(pacing.WithSeed(42), pacing.WithCapacity(1000))
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()

	// A decision point: the question the shop asks. "hold" shows nothing
	// (a quiet action), and it is also what safety answers when it forbids
	// showing (the safe action).
	cta, err := ctx.AddPoint(pacing.PointSpec{
		Name:         "checkout_cta",
		Actions:      []string{"show", "hold"},
		Policy:       "thompson",
		Attribution:  5 * time.Minute, // rewards count for 5 minutes
		QuietActions: []string{"hold"},
		SafeAction:   "hold",
	})
	if err != nil {
		log.Fatal(err)
	}
	// The safety layer: never two prompts within 20 s for one shopper.
	if _, err := ctx.AddRule(pacing.RuleSpec{Module: "min_gap", Point: "checkout_cta",
		Params: map[string]float64{"gap_ms": 20000}}); err != nil {
		log.Fatal(err)
	}

	// Errors carry the library's status and message.
	if _, err := ctx.Push(pacing.Event{Type: pacing.EventScrollDepth, User: "x", Value: 7}); errors.Is(err, pacing.ErrRange) {
		fmt.Println("rejected as expected:", err)
	}

	// Simulate 3 shoppers for 3 minutes, one page view every 5 s. The
	// library never reads a clock: we pass the time (ms) in every call.
	rng := rand.New(rand.NewSource(1))
	shoppers := []string{"ana", "ben", "chloe"}
	shown, bought := 0, 0
	for t := int64(0); t <= 180000; t += 5000 {
		for i, user := range shoppers {
			// What the page saw: a page view with some reading time.
			push(ctx, pacing.Event{Type: pacing.EventDwell, User: user, TimeMs: t, Value: 2000 + 1000*float64(i)})

			// Ask the decision point.
			d, err := ctx.Decide(pacing.Request{Point: cta, User: user, NowMs: t + 100})
			if err != nil {
				log.Fatal(err)
			}
			if d.ActionName != "show" {
				// Safe decisions (ID 0) teach nothing; a chosen "hold"
				// learns a small reward for not disturbing.
				if d.ID != 0 {
					must(ctx.Reward(d.ID, 0.2, t+200))
				}
				continue
			}
			// Shown (the decision itself counts as an exposure, which
			// feeds fatigue): the shopper buys (reward 1) or dismisses
			// the prompt (reward 0), and we push what happened.
			shown++
			if rng.Float64() < 0.3/(1+float64(i)) {
				bought++
				push(ctx, pacing.Event{Type: pacing.EventConversion, User: user, TimeMs: t + 1500, Value: 49})
				must(ctx.Reward(d.ID, 1, t+1500))
			} else {
				push(ctx, pacing.Event{Type: pacing.EventDismiss, User: user, TimeMs: t + 1500})
				must(ctx.Reward(d.ID, 0, t+1500))
			}
		}
		// Once a minute: one shopper's scores and why the last answer was given.
		if t%60000 == 0 && t > 0 {
			s, err := ctx.Scores("ben", t+2000)
			must(err)
			fmt.Printf("t=%3ds ben: fatigue %.2f, load %.2f, %d prompts in the last minute\n",
				t/1000, s.Fatigue, s.CognitiveLoad, s.Exposures1m)
			d, err := ctx.Decide(pacing.Request{Point: cta, User: "ben", NowMs: t + 2500})
			must(err)
			why, err := ctx.Explain(d)
			must(err)
			fmt.Printf("        why: %s\n", why)
			if d.ID != 0 {
				must(ctx.Reward(d.ID, 0, t+2600))
			}
		}
	}

	// What the bandit learned, per action.
	for a := uint32(0); a < 2; a++ {
		st, err := ctx.ArmStats(cta, a)
		must(err)
		fmt.Printf("%-5s chosen %3d times, mean reward %.2f (%s %.1f, %s %.1f)\n",
			ctx.ActionName(cta, a), st.Decisions, st.Mean, st.ParamAName, st.ParamA, st.ParamBName, st.ParamB)
	}
	// The decision log: every settled decision with its propensity, for
	// audits and off-policy evaluation. Reading it drains it.
	entries, _, err := ctx.Log()
	must(err)
	safe := 0
	for _, e := range entries {
		if e.Outcome == pacing.OutcomeSafe {
			safe++
		}
	}
	fmt.Printf("shown %d prompts, %d purchases; log: %d decisions, %d held back by min_gap\n",
		shown, bought, len(entries), safe)
}

func push(ctx *pacing.Context, ev pacing.Event) {
	if _, err := ctx.Push(ev); err != nil {
		log.Fatal(err)
	}
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
