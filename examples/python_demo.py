#!/usr/bin/env python3
"""A simulated web-shop session, paced by libpacing from Python.

What it shows: a decision point ("show the checkout call-to-action now,
delay it, or skip it?"), built-in and Python safety rules, events that
make a shopper tired, rewards, and the explanation of every decision.

Run from the repository root after `make`:   python3 examples/python_demo.py
(the `pacing` package is bindings/python; it loads build/libpacing.so.1).
"""

import os
import random
import sys

try:
    import pacing
except ImportError:  # not installed: use the package in this checkout
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, os.pardir, "bindings", "python"))
    import pacing

from pacing import Delay, EventType as E

SEC = 1000  # the library counts time in milliseconds, on *our* clock


# A custom safety rule in plain Python. It sees a read-only view of the
# shopper and the proposed action, and answers None (fine), Veto(...) or
# Delay(...). This one keeps the first `warmup_ms` of a session free of
# prompts: nobody wants a pop-up the moment the page opens.
def no_prompt_while_warming_up(view, params):
    if view.session_start_ms is None:
        return None                                   # no session: nothing to judge
    age = view.now_ms - view.session_start_ms
    if age < params["warmup_ms"]:
        return Delay(retry_after_ms=view.session_start_ms + int(params["warmup_ms"]),
                     details=(age, params["warmup_ms"]),
                     message="session only %.0f s old" % (age / SEC))
    return None


def main():
    # One context holds every shopper's state. A fixed seed and secret make
    # the run repeatable (decisions are random draws of a bandit policy).
    with pacing.Context(capacity=1000, seed=2024, secret=b"demo-secret-0123") as ctx:
        # Python rules are registered by name before they are used.
        ctx.register_rule("warmup", no_prompt_while_warming_up, {"warmup_ms": 10 * SEC})

        # The decision point: three actions; "delay" and "skip" show nothing
        # (quiet), and "delay" is what safety falls back to.
        cta = ctx.add_point(
            "checkout_cta", ["show_now", "delay", "skip"], policy="thompson",
            quiet_actions=["delay", "skip"], safe_action="delay",
            attribution_ms=10 * 60 * SEC,                # rewards count for 10 min
            rewards=[("conversion", 1.0), ("dismiss", 0.5)])

        # Hard limits the bandit cannot override.
        ctx.add_rule("warmup", cta)                      # ours, in Python
        ctx.add_rule("min_gap", cta, gap_ms=20 * SEC)    # 20 s between prompts
        ctx.add_rule("fatigue_ceiling", max=0.25, delay_ms=5 * 60 * SEC)  # tired: wait 5 min

        # --- first, 60 earlier shoppers teach the bandit ------------------
        # Each is asked once, 15 s into a session; showing the prompt led to
        # a purchase 40% of the time, delaying it 10%. Explicit rewards
        # (1 = bought, 0 = did not) teach the policy.
        rng = random.Random(1)
        for i in range(60):
            t0 = i * 60 * SEC
            who = "earlier-%d" % i
            ctx.push(type=E.SESSION_START, user=who, time_ms=t0)
            d = ctx.decide(cta, who, t0 + 15 * SEC, ineligible=["skip"])
            bought = rng.random() < (0.4 if d.action == "show_now" else 0.1)
            ctx.reward(d, 1.0 if bought else 0.0, t0 + 30 * SEC)
        ctx.log()                                        # start the log afresh

        user = "shopper-42"      # any id: the library keeps only a keyed hash
        base = 61 * 60 * SEC     # this session starts after the others

        def at(seconds):          # a time in this session, in ms
            return base + int(seconds * SEC)

        def ask(seconds, note):
            # Ask the point; the answer explains itself. Marking "skip"
            # ineligible keeps the demo to the show-or-delay question.
            d = ctx.decide(cta, user, at(seconds), ineligible=["skip"])
            print("t=%4.0fs %-20s -> %-8s %s" % (seconds, note, d.action,
                                                "(safety)" if d.safe else ""))
            print("         why: " + ctx.explain(d))
            return d

        # --- then, one shopper's session, step by step -------------------
        ctx.push(type=E.SESSION_START, user=user, time_ms=at(0))
        ctx.push(type=E.SCROLL_DEPTH, user=user, time_ms=at(2), value=0.4)
        ask(5, "cart page opened")                       # too early: warmup

        ctx.push(type=E.DWELL, user=user, time_ms=at(12), value=9000)
        d = ask(15, "still on the cart")
        if d.action == "show_now":
            # The shopper closes the prompt: an implicit penalty (the
            # "dismiss" reward rule) and a step towards fatigue.
            ctx.push(type=E.DISMISS, user=user, time_ms=at(17))
        ask(25, "back on the cart")                      # min_gap after a show

        # Friction: errors, rage clicks, undos, slow reactions. Fatigue climbs.
        for i, kind in enumerate([E.ERROR, E.RAGE_CLICK, E.UNDO, E.UNDO,
                                  E.ERROR, E.RAGE_CLICK, E.UNDO, E.ERROR]):
            ctx.push(type=kind, user=user, time_ms=at(30 + 2 * i))
        s = ctx.scores(user, at(46))
        print("\nafter some friction: fatigue %.2f, cognitive load %.2f, made of" %
              (s.fatigue, s.cognitive_load))
        for c in ctx.contributions(user, at(46), pacing.ScoreKind.FATIGUE)[:3]:
            print("  %-18s %.3f" % (c.name, c.contribution))
        print()
        ask(60, "checkout page")                         # tired: fatigue ceiling

        ctx.push(type=E.TAB_VISIBLE, user=user, time_ms=at(400))
        d = ask(420, "came back later")
        if d.action == "show_now":
            # It worked: a purchase rewards the decision and settles it.
            ctx.push(type=E.CONVERSION, user=user, time_ms=at(430), value=59.90)

        # --- how it ended ---------------------------------------------------
        ctx.settle(at(3600))             # close every attribution window
        print("\ndecision log of this session:")
        for e in ctx.log():
            print("  t=%4.0fs %-8s %-8s reward %+.2f" %
                  ((e.time_ms - base) / SEC, cta.actions[e.final_action],
                   e.outcome.name.lower(), e.reward))
        for action in ("show_now", "delay"):
            a = ctx.arm_stats(cta, action)
            print("%-8s chosen %2d times, mean reward %.2f" % (action, a.decisions, a.mean))


if __name__ == "__main__":
    main()
