"""Unit tests of the Python binding (run: cd bindings/python && python3 -m unittest).

They load the library from the repository's build tree (build `make` first)
unless PACING_LIBRARY names another. Every struct mirror is passed through
the library somewhere below: a mirror whose size differs from the header's
fails with SizeMismatchError (PACING_E_SIZE), and structs the library passes
to callbacks are checked against the mirrors by the binding itself.
"""

import ctypes
import gc
import os
import tempfile
import threading
import unittest
from unittest import mock

import pacing
from pacing import (Channel, Delay, Event, EventFlag, EventType, Input,
                    Outcome, Reason, ScoreKind, Status, Verdict, Veto)
from pacing import _native as N

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir, os.pardir))
WEB_CHECKOUT = os.path.join(REPO, "examples", "config", "web-checkout.yaml")
SECRET = bytes(range(16))


def small_ctx(**kw):
    """A context small enough to create quickly in every test."""
    opts = dict(capacity=64, seed=7, secret=SECRET, pending_capacity=64,
                log_capacity=64)
    opts.update(kw)
    return pacing.Context(**opts)


def checkout_point(ctx, **kw):
    return ctx.add_point("checkout_cta", ["show_now", "delay", "skip"],
                         policy="thompson", quiet_actions=["delay", "skip"],
                         safe_action="delay", **kw)


class TestLoading(unittest.TestCase):
    def test_version_matches(self):
        self.assertEqual(pacing.library_version_number // 10000, N.EXPECTED_MAJOR)
        self.assertRegex(pacing.library_version, r"^1\.\d+\.\d+$")
        self.assertTrue(os.path.exists(pacing.library_path)
                        or pacing.library_path.startswith("lib"))

    def test_lookup_order(self):
        with mock.patch.dict(os.environ, {"PACING_LIBRARY": "/x/libpacing.so.1"}):
            self.assertEqual(N._candidates(), [("$PACING_LIBRARY", "/x/libpacing.so.1")])
        with mock.patch.dict(os.environ):
            os.environ.pop("PACING_LIBRARY", None)
            cands = N._candidates()
            self.assertEqual(cands[0], ("build tree", os.path.join(REPO, "build",
                                                                   "libpacing.so.1")))
            self.assertIn(("installed (SONAME)", "libpacing.so.1"), cands)

    def test_version_mismatch_is_an_import_error(self):
        class FakeLib:
            @staticmethod
            def pacing_version_number():
                return 20103

            @staticmethod
            def pacing_version_string():
                return b"2.1.3"
        with mock.patch.object(N, "lib", FakeLib):
            with self.assertRaises(ImportError) as cm:
                N._check_version()
        self.assertIn("2.1.3", str(cm.exception))
        self.assertIn("PACING_LIBRARY", str(cm.exception))

    def test_names(self):
        self.assertEqual(pacing.event_type_name(EventType.RAGE_CLICK), "rage_click")
        self.assertIsNone(pacing.event_type_name(99))
        self.assertEqual(pacing.input_name(Input.DISMISSALS), "dismissals")
        self.assertEqual(pacing.strerror(Status.OK), "success")

    @unittest.skipUnless(ctypes.sizeof(ctypes.c_void_p) == 8 and
                         ctypes.sizeof(ctypes.c_long) == 8, "LP64 only")
    def test_lp64_sizes(self):
        # sizeof of each struct as gcc computes it from include/pacing.h on
        # x86_64 (LP64); the library also checks sizes at every call.
        expected = {
            "pacing_options": 168, "pacing_event": 72, "pacing_stats": 120,
            "pacing_scores": 88, "pacing_contribution": 48,
            "pacing_decay_module": 64, "pacing_point_spec": 120,
            "pacing_request": 80, "pacing_decision": 312,
            "pacing_arm_stats": 88, "pacing_decision_stats": 80,
            "pacing_rule_view": 272, "pacing_rule_result": 40,
            "pacing_rule_module": 64, "pacing_rule_spec": 40,
            "pacing_config_error": 528, "pacing_log_entry": 88,
            "pacing_reward_input": 40, "pacing_reward_module": 32,
        }
        got = {k: ctypes.sizeof(v) for k, v in N.SIZED_STRUCTS.items()}
        self.assertEqual(got, expected)

    def test_library_checks_struct_sizes(self):
        # The safety net behind the mirrors: a wrong size is refused.
        with small_ctx() as ctx:
            s = N.Stats()
            s.size = ctypes.sizeof(N.Stats) + 8
            rc = N.lib.pacing_stats_get(ctx._h, ctypes.byref(s))
            self.assertEqual(rc, Status.E_SIZE)
            s.size = ctypes.sizeof(N.Stats)
            self.assertEqual(N.lib.pacing_stats_get(ctx._h, ctypes.byref(s)), 0)


class TestLifecycle(unittest.TestCase):
    def test_context_manager_and_close(self):
        with small_ctx() as ctx:
            self.assertFalse(ctx.closed)
            self.assertEqual(ctx.stats().capacity, 64)
        self.assertTrue(ctx.closed)
        ctx.close()  # idempotent
        with self.assertRaises(ValueError):
            ctx.stats()

    def test_del_frees(self):
        ctx = small_ctx()
        ctx.push(type=EventType.CLICK, user="u", time_ms=1)
        del ctx
        gc.collect()

    def test_bad_options(self):
        with self.assertRaises(pacing.OutOfRangeError) as cm:
            pacing.Context(rage_clicks=9)
        self.assertIn("rage_clicks", cm.exception.message)
        with self.assertRaises(ValueError):
            pacing.Context(secret=b"short")
        with self.assertRaises(TypeError):
            pacing.Context(no_such_option=1)

    def test_options_dataclass(self):
        opts = pacing.Options(capacity=32, single_thread=True)
        with pacing.Context(opts, seed=3) as ctx:
            self.assertEqual(ctx.stats().capacity, 32)


class TestEventsAndScores(unittest.TestCase):
    def test_fatigue_rises_with_prompts_and_dismissals(self):
        with small_ctx() as ctx:
            t = 1000
            self.assertTrue(ctx.push(type=EventType.SESSION_START, user="u1", time_ms=t))
            before = ctx.scores("u1", t).fatigue
            for i in range(6):
                t += 5000
                ctx.push(Event(EventType.EXPOSURE, "u1", t))
                ctx.push(Event(EventType.DISMISS, "u1", t + 800, target=42))
            after = ctx.scores("u1", t + 1000)
            self.assertGreater(after.fatigue, before)
            self.assertGreater(after.fatigue, 0.1)
            self.assertEqual(after.exposures_1m, 6)
            contribs = ctx.contributions("u1", t + 1000, ScoreKind.FATIGUE)
            self.assertTrue(contribs)
            names = [c.name for c in contribs]
            self.assertIn("dismissals", names)
            self.assertAlmostEqual(sum(c.contribution for c in contribs),
                                   after.fatigue, places=9)
            top = contribs[0]
            self.assertIsInstance(top.input, Input)
            self.assertGreaterEqual(top.contribution, contribs[-1].contribution)

    def test_push_forms(self):
        with small_ctx() as ctx:
            self.assertTrue(ctx.push(type="click", user=b"\x00\xffbytes", time_ms=5,
                                     value=120))
            # a bot event is dropped: False, counted
            self.assertFalse(ctx.push(type=EventType.CLICK, user="u", time_ms=6,
                                      flags=EventFlag.BOT))
            self.assertEqual(ctx.stats().events_dropped_bot, 1)
            # pseudonyms name the same user as the id bytes
            p = ctx.pseudonym(b"\x00\xffbytes")
            self.assertIsInstance(p, pacing.Pseudonym)
            self.assertEqual(ctx.scores(p, 10), ctx.scores(b"\x00\xffbytes", 10))
            self.assertEqual(ctx.pseudonym("é"), ctx.pseudonym("é".encode()))

    def test_push_batch(self):
        with small_ctx() as ctx:
            evs = [Event(EventType.SESSION_START, "b", 0),
                   Event(EventType.SCROLL_DEPTH, "b", 100, value=0.5),
                   Event(EventType.DWELL, "b", 200, value=3000)]
            self.assertEqual(ctx.push_batch(evs), 3)
            self.assertEqual(ctx.stats().events_applied, 3)
            bad = evs + [Event(EventType.SCROLL_DEPTH, "b", 300, value=7.0)]
            with self.assertRaises(pacing.OutOfRangeError) as cm:
                ctx.push_batch(bad)
            self.assertEqual(cm.exception.index, 3)
            self.assertIn("event 3", str(cm.exception))
            self.assertEqual(ctx.stats().events_applied, 3)  # nothing applied

    def test_errors_carry_library_message(self):
        with small_ctx() as ctx:
            with self.assertRaises(pacing.UnknownEventType) as cm:
                ctx.push(type=99, user="u1", time_ms=1)
            e = cm.exception
            self.assertIsInstance(e, pacing.PacingError)
            self.assertEqual(e.status, Status.E_TYPE)
            self.assertTrue(e.message)                    # pacing_errmsg
            self.assertEqual(e.description, pacing.strerror(Status.E_TYPE))
            self.assertIn(e.message, str(e))
            with self.assertRaises(pacing.NotFiniteError):
                ctx.push(type=EventType.DWELL, user="u1", time_ms=1, value=float("nan"))
            with self.assertRaises(pacing.TimeRangeError):
                ctx.push(type=EventType.CLICK, user="u1", time_ms=-5)
            with self.assertRaises(pacing.NotFound) as cm:
                ctx.scores("nobody", 10)
            self.assertIsInstance(cm.exception, LookupError)
            with self.assertRaises(pacing.OutOfRangeError):
                ctx.push(type=EventType.CLICK, user="", time_ms=1)

    def test_weights(self):
        with small_ctx() as ctx:
            ctx.set_weight(ScoreKind.FATIGUE, Input.DISMISSALS, 2.5)
            self.assertEqual(ctx.weight(ScoreKind.FATIGUE, Input.DISMISSALS), 2.5)
            with self.assertRaises(pacing.InvalidArgument):
                ctx.set_weight(ScoreKind.FATIGUE, Input.HOVER, 1.0)
            self.assertAlmostEqual(ctx.decay_eval("exponential", 1000, [1000]), 0.5)
            ctx.set_exposure_decay("linear", [60000])

    def test_forget(self):
        with small_ctx() as ctx:
            ctx.push(type=EventType.CLICK, user="gone", time_ms=10)
            self.assertTrue(ctx.forget("gone"))
            with self.assertRaises(pacing.NotFound):
                ctx.scores("gone", 20)
            self.assertFalse(ctx.forget("gone"))
            self.assertEqual(ctx.stats().users_forgotten, 1)


class TestDecisions(unittest.TestCase):
    def test_min_gap_and_explain(self):
        with small_ctx() as ctx:
            cta = checkout_point(ctx)
            self.assertEqual((cta.id, cta.name), (0, "checkout_cta"))
            rule = ctx.add_rule("min_gap", cta, gap_ms=20000)
            ctx.push(type=EventType.SESSION_START, user="u1", time_ms=0)
            # only show_now eligible: it is shown (an exposure is recorded)
            d1 = ctx.decide(cta, "u1", 1000, ineligible=["delay", "skip"])
            self.assertEqual(d1.action, "show_now")
            self.assertNotEqual(d1.id, 0)
            self.assertGreater(d1.propensity, 0)
            # 5 s later min_gap delays show_now: the safe action comes back
            # (the safe action is returned only while it is eligible)
            d2 = ctx.decide("checkout_cta", "u1", 6000, ineligible=["skip"])
            self.assertTrue(d2.safe)
            self.assertIn(Reason.VETOED, d2.reasons)
            self.assertEqual(d2.action, "delay")
            self.assertEqual(d2.id, 0)
            self.assertEqual(d2.retry_after_ms, 21000)
            self.assertEqual(len(d2.vetoes), 1)
            v = d2.vetoes[0]
            self.assertEqual((v.rule, v.action, v.verdict), (rule, "show_now", Verdict.DELAY))
            self.assertEqual(v.details, (20000.0, 5000.0))
            text = ctx.explain(d2)
            self.assertIn("min_gap", text)
            self.assertTrue(text.startswith("delayed checkout_cta (delay)"), text)
            # safe decisions cannot be rewarded
            with self.assertRaises(pacing.NotFound):
                ctx.reward(d2, 1.0, 7000)

    def test_reward_arm_stats_and_log(self):
        with small_ctx() as ctx:
            cta = checkout_point(ctx)
            ctx.push(type=EventType.SESSION_START, user="u2", time_ms=0)
            d = ctx.decide(cta, "u2", 1000, ineligible=["delay", "skip"])
            ctx.reward(d, 1.0, 2000)
            a = ctx.arm_stats(cta, "show_now")
            self.assertEqual((a.decisions, a.rewards), (1, 1))
            self.assertEqual(a.params, {"alpha": 2.0, "beta": 1.0})
            self.assertEqual(a.last_update_ms, 2000)
            ds = ctx.decision_stats()
            self.assertEqual((ds.decisions, ds.rewards_explicit, ds.pending), (1, 1, 0))
            with self.assertRaises(pacing.NotFound):
                ctx.reward(d.id, 1.0, 3000)          # already settled
            with self.assertRaises(pacing.OutOfRangeError):
                ctx.reward(ctx.decide(cta, "u2", 4000), 5.0, 4100)
            entries = ctx.log()
            self.assertEqual(len(entries), 1)
            e = entries[0]
            self.assertEqual((e.id, e.point, e.final_action, e.outcome),
                             (d.id, "checkout_cta", 0, Outcome.REWARDED))
            self.assertEqual((e.reward, e.reward_time_ms), (1.0, 2000))
            self.assertEqual(e.pseudonym, ctx.pseudonym("u2"))
            self.assertEqual(ctx.log(), [])             # read removes them
            self.assertEqual(ctx.log(with_dropped=True), ([], 0))

    def test_settle_default_reward(self):
        with small_ctx() as ctx:
            pt = ctx.add_point("tip", ["a", "b"], policy="epsilon_greedy",
                               params={"epsilon": 0.1}, attribution_ms=1000,
                               default_reward=0.25)
            ctx.decide(pt, "u", 0)
            self.assertEqual(ctx.settle(5000), 1)
            self.assertEqual(ctx.decision_stats().rewards_default, 1)
            self.assertEqual(ctx.log()[0].outcome, Outcome.DEFAULT)

    def test_decide_errors(self):
        with small_ctx() as ctx:
            with self.assertRaises(pacing.NotFound):
                ctx.decide("nope", "u", 0)
            pt = ctx.add_point("p", ["show", "hide"], quiet_actions=["hide"])
            ctx.add_rule("opt_out", pt)
            with self.assertRaises(pacing.VetoedError) as cm:
                ctx.decide(pt, "u", 0, ineligible=["hide"], opted_out=True)
            self.assertIn("p", cm.exception.message)
            with self.assertRaises(pacing.AlreadyExists):
                ctx.add_point("p", ["x", "y"])
            with self.assertRaises(pacing.NotFound) as cm:
                ctx.add_point("q", ["x", "y"], policy="thompsn")
            self.assertIn("thompsn", str(cm.exception))
            with self.assertRaises(pacing.InvalidArgument):
                ctx.add_rule("min_gap", pt, no_such_param=1)

    def test_contextual_policy(self):
        with small_ctx() as ctx:
            pt = ctx.add_point("variant", ["a", "b", "c"], policy="linucb",
                               context_dim=2, scores_context=True)
            d = ctx.decide(pt, "u", 100, context=[0.5, 1.0], channel=Channel.APP)
            self.assertIn(d.action, ("a", "b", "c"))
            ctx.reward(d, 2.5, 200)
            with self.assertRaises(pacing.InvalidArgument):
                ctx.decide(pt, "u", 300, context=[1.0])


class TestPythonModules(unittest.TestCase):
    def test_python_rule_vetoes(self):
        seen = []

        def newcomer(view, params):
            seen.append(view)
            if view.session_start_ms is None:
                return None
            age = view.now_ms - view.session_start_ms
            if age < params["min_age_ms"]:
                return Veto(reason=7, details=(age, params["min_age_ms"]),
                            message="session only %d s old" % (age // 1000))
            return None

        with small_ctx() as ctx:
            ctx.register_rule("no_newcomers", newcomer, {"min_age_ms": 60000})
            cta = checkout_point(ctx)
            rid = ctx.add_rule("no_newcomers", min_age_ms=30000)
            ctx.push(type=EventType.SESSION_START, user="u", time_ms=0)
            d = ctx.decide(cta, "u", 10000, ineligible=["skip"], channel=Channel.WEB)
            self.assertTrue(d.safe)
            self.assertEqual(d.vetoes[0].rule, rid)
            self.assertEqual(d.vetoes[0].reason, 7)
            self.assertEqual(d.vetoes[0].verdict, Verdict.VETO)
            self.assertEqual(d.vetoes[0].details, (10000.0, 30000.0))
            self.assertIn("session only 10 s old", ctx.explain(d))
            v = seen[0]
            self.assertEqual((v.point, v.action, v.channel), ("checkout_cta", "show_now",
                                                              Channel.WEB))
            self.assertTrue(v.has_user)
            self.assertEqual(v.session_start_ms, 0)
            self.assertIsNone(v.last_error_ms)
            # old enough: allowed
            d = ctx.decide(cta, "u", 40000, ineligible=["delay", "skip"])
            self.assertEqual(d.action, "show_now")
            self.assertFalse(d.vetoed)
            self.assertEqual(list(ctx.callback_errors), [])

    def test_python_rule_delay_and_explain_callable(self):
        def wait(view, params):
            return Delay(view.now_ms + 5000, reason=3, details=(1.5,))

        with small_ctx() as ctx:
            ctx.register_rule("waiter", wait,
                              explain=lambda v, p: "wait for %s (%g)" % (v.action, v.details[0]))
            cta = checkout_point(ctx)
            ctx.add_rule("waiter", "checkout_cta")
            d = ctx.decide(cta, "u", 1000, ineligible=["skip"])
            self.assertEqual(d.retry_after_ms, 6000)
            self.assertEqual(d.vetoes[0].verdict, Verdict.DELAY)
            self.assertIn("wait for show_now (1.5)", ctx.explain(d))

    def test_rule_exception_is_a_veto(self):
        def broken(view, params):
            raise RuntimeError("rule bug")

        with small_ctx() as ctx:
            ctx.register_rule("broken", broken)
            cta = checkout_point(ctx)
            ctx.add_rule("broken")
            d = ctx.decide(cta, "u", 1000, ineligible=["skip"])
            self.assertTrue(d.safe)
            self.assertEqual((d.vetoes[0].verdict, d.vetoes[0].reason), (Verdict.VETO, 0))
            self.assertIn("broken vetoed", ctx.explain(d))
            errs = list(ctx.callback_errors)
            self.assertEqual(len(errs), 1)
            self.assertIsInstance(errs[0], RuntimeError)

        with small_ctx(callback_errors="raise") as ctx:
            ctx.register_rule("broken", broken)
            cta = checkout_point(ctx)
            ctx.add_rule("broken")
            with self.assertRaises(pacing.CallbackError) as cm:
                ctx.decide(cta, "u", 1000, ineligible=["skip"])
            self.assertIsInstance(cm.exception.__cause__, RuntimeError)
            self.assertTrue(cm.exception.result.safe)      # the decision stands

    def test_callbacks_cannot_reenter(self):
        holder = {}

        def sneaky(view, params):
            holder["ctx"].stats()

        with small_ctx() as ctx:
            holder["ctx"] = ctx
            ctx.register_rule("sneaky", sneaky)
            cta = checkout_point(ctx)
            ctx.add_rule("sneaky")
            ctx.decide(cta, "u", 1000)
            self.assertIsInstance(ctx.callback_errors[0], RuntimeError)

    def test_register_errors(self):
        with small_ctx() as ctx:
            with self.assertRaises(pacing.AlreadyExists):
                ctx.register_rule("min_gap", lambda v, p: None)
            with self.assertRaises(pacing.InvalidArgument):
                ctx.register_rule("Bad Name", lambda v, p: None)
            with self.assertRaises(pacing.AlreadyExists):
                ctx.register_reward("dismiss", lambda *a: None)

    def test_python_reward_module(self):
        calls = []

        def scrolled(event, since_ms, point, action, dwell_baseline_ms=0.0):
            calls.append((event.type, since_ms, point, action))
            if event.type == EventType.SCROLL_DEPTH:
                return event.value, True          # reward = depth, settle now
            if event.type == EventType.CUSTOM:
                raise ValueError("reward bug")
            return None

        with small_ctx() as ctx:
            ctx.register_reward("scrolled", scrolled)
            pt = ctx.add_point("banner", ["show", "hide"], quiet_actions=["hide"],
                               rewards=[("scrolled", 1.0)], attribution_ms=60000)
            ctx.push(type=EventType.SESSION_START, user="r", time_ms=0)
            d = ctx.decide(pt, "r", 1000, ineligible=["hide"])
            self.assertEqual(d.action, "show")
            ctx.push(type=EventType.CUSTOM, user="r", time_ms=1500, value=1)
            ctx.push(type=EventType.CLICK, user="r", time_ms=2000, value=50)
            ctx.push(type=EventType.SCROLL_DEPTH, user="r", time_ms=3000, value=0.75)
            self.assertEqual(calls[-1], (EventType.SCROLL_DEPTH, 2000, "banner", "show"))
            self.assertEqual(len(ctx.callback_errors), 1)
            self.assertIsInstance(ctx.callback_errors[0], ValueError)
            ds = ctx.decision_stats()
            self.assertEqual((ds.rewards_implicit, ds.pending), (1, 0))
            a = ctx.arm_stats(pt, "show")
            self.assertEqual(a.rewards, 1)
            self.assertAlmostEqual(a.reward_sum, 0.75)
            (entry,) = ctx.log()
            self.assertEqual((entry.outcome, entry.reward), (Outcome.IMPLICIT, 0.75))


class TestThreads(unittest.TestCase):
    def run_threads(self, ctx, n_threads=4, n_calls=100):
        ctx.register_rule("every_third", lambda v, p: Veto() if v.now_ms % 3 == 0 else None)
        cta = checkout_point(ctx)
        ctx.add_rule("every_third")
        failures = []

        def work(k):
            try:
                for i in range(n_calls):
                    user = "t%d-%d" % (k, i % 5)
                    ctx.push(type=EventType.CLICK, user=user, time_ms=i * 100 + 1, value=10)
                    ctx.decide(cta, user, i * 100 + 50 + k)
            except Exception as e:  # pragma: no cover - reported below
                failures.append(e)
        threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])
        self.assertEqual(list(ctx.callback_errors), [])
        self.assertEqual(ctx.decision_stats().decisions, n_threads * n_calls)

    def test_shared_context(self):
        with small_ctx() as ctx:
            self.run_threads(ctx)

    def test_single_thread_context_is_serialised(self):
        with small_ctx(single_thread=True) as ctx:
            self.run_threads(ctx)


class TestYaml(unittest.TestCase):
    def test_load_example(self):
        with pacing.Context.from_yaml(WEB_CHECKOUT, seed=1) as ctx:
            cta = ctx.point("checkout_cta")
            self.assertEqual(cta.actions, ("show_now", "delay", "skip"))
            self.assertEqual(ctx.point("upsell_banner").id, 1)
            # require_consent: an event without CONSENT is dropped
            self.assertFalse(ctx.push(type=EventType.SESSION_START, user="s", time_ms=0))
            self.assertTrue(ctx.push(type=EventType.SESSION_START, user="s", time_ms=10,
                                     flags=EventFlag.CONSENT))
            d = ctx.decide("checkout_cta", "s", 1000, consent=True,
                           ineligible=["delay", "skip"])
            self.assertEqual(d.action, "show_now")
            d = ctx.decide("checkout_cta", "s", 2000, consent=True,
                           ineligible=["skip"])
            self.assertTrue(d.safe)
            self.assertIn("min_gap", ctx.explain(d))

    def test_broken_yaml(self):
        text = ("version: 1\n"
                "points:\n"
                "  - name: cta\n"
                "    actions: [show, hide]\n"
                "    policy: thompsn\n")
        with self.assertRaises(pacing.ConfigError) as cm:
            pacing.Context.from_yaml_string(text)
        e = cm.exception
        self.assertEqual(e.status, Status.E_CONFIG)
        self.assertEqual(e.file, "<string>")
        self.assertEqual(e.line, 5)
        self.assertGreater(e.column, 0)
        self.assertIn("thompsn", e.message)
        self.assertTrue(str(e).startswith("<string>:5:%d: " % e.column), str(e))

        with self.assertRaises(pacing.ConfigError) as cm:
            pacing.Context.from_yaml_string("version: 1\noptions: [unclosed\n")
        self.assertGreater(cm.exception.line, 0)

    def test_missing_file(self):
        with self.assertRaises(pacing.PacingError) as cm:
            pacing.Context.from_yaml(os.path.join(HERE, "no-such-file.yaml"))
        self.assertIn(cm.exception.status, (Status.E_IO, Status.E_CONFIG))
        self.assertIn("no-such-file.yaml", str(cm.exception))


class TestSnapshots(unittest.TestCase):
    def make(self):
        ctx = small_ctx()
        checkout_point(ctx)
        ctx.add_rule("min_gap", "checkout_cta", gap_ms=20000)
        return ctx

    def fill(self, ctx):
        for i, t in enumerate(range(0, 20000, 2000)):
            ctx.push(type=EventType.EXPOSURE if i % 2 else EventType.DISMISS,
                     user="snap", time_ms=t)
        ctx.push(type=EventType.READING_SPEED, user="snap", time_ms=21000, value=180)
        # 22 s after the last exposure: min_gap allows, the decision is pending
        d = ctx.decide("checkout_cta", "snap", 40000)
        self.assertNotEqual(d.id, 0)
        return d

    def test_bytes_round_trip(self):
        with self.make() as a, self.make() as b:
            d = self.fill(a)
            data = a.snapshot_bytes()
            self.assertGreater(len(data), 0)
            b.load_snapshot_bytes(data)
            self.assertEqual(a.scores("snap", 50000), b.scores("snap", 50000))
            self.assertEqual(a.decision_stats(), b.decision_stats())
            self.assertEqual(b.decision_stats().pending, 1)
            b.reward(d, 1.0, 41000)              # the pending decision came along
            self.assertEqual(b.arm_stats("checkout_cta", d.action).rewards, 1)
            # damaged data is refused and changes nothing
            with self.make() as c:
                bad = bytearray(data)
                bad[len(bad) // 2] ^= 0xFF
                with self.assertRaises((pacing.CorruptError, pacing.VersionError)):
                    c.load_snapshot_bytes(bytes(bad))
                with self.assertRaises(pacing.CorruptError):
                    c.load_snapshot_bytes(data[:10])
                with self.assertRaises(pacing.NotFound):
                    c.scores("snap", 50000)

    def test_file_round_trip(self):
        with self.make() as a, self.make() as b, tempfile.TemporaryDirectory() as tmp:
            self.fill(a)
            path = os.path.join(tmp, "state.snap")
            a.snapshot_save(path)
            b.snapshot_load(path)
            self.assertEqual(a.scores("snap", 50000), b.scores("snap", 50000))
            with self.assertRaises(pacing.PacingError):
                b.snapshot_load(os.path.join(tmp, "missing.snap"))

    def test_other_config_refused(self):
        with self.make() as a, small_ctx() as other:
            self.fill(a)
            with self.assertRaises(pacing.ConfigError):
                other.load_snapshot_bytes(a.snapshot_bytes())


if __name__ == "__main__":
    unittest.main()
