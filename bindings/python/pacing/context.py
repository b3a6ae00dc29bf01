"""Context: one libpacing engine (pacing_ctx) and everything it owns."""

import collections
import contextlib
import ctypes
import dataclasses
import inspect
import math
import os
import threading
from ctypes import byref, c_double, c_size_t, c_uint32, c_uint64, c_void_p

from . import _native as N
from .enums import (Channel, EventFlag, EventType, Input, OptionFlag, Outcome,
                    PointFlag, Reason, RequestFlag, ScoreKind, Status, Verdict,
                    _coerce)
from .errors import (CallbackError, ConfigError, PacingError,
                     SizeMismatchError, error_class)
from .types import (ArmStats, Contribution, Decision, DecisionScores, DecisionStats, Delay,
                    Event, Exposure, LogEntry, Options, Point, Pseudonym,
                    RuleView, Scores, Stats, TopInput, Veto, VetoRecord)

_lib = N.lib
_UINT32_MAX = 0xFFFFFFFF
# A struct handed to a callback whose size is not ours: our mirror and the
# loaded library disagree. Reported like a failed call would be.
_SIZE_MSG = "%s: the library passed size %d, this binding's mirror has %d"


def _strerror(status):
    return (_lib.pacing_strerror(status) or b"").decode("utf-8", "replace")


def _raise(status, handle, extra=""):
    """Raise the exception for a failed call, with the library's message
    (read at once: messages are kept per thread until its next failure)."""
    msg = (_lib.pacing_errmsg(handle) or b"").decode("utf-8", "replace")
    raise error_class(status)(status, extra + msg, _strerror(status))


def _opt_time(t):
    return None if t < 0 else t


def _input_name(i):
    name = _lib.pacing_input_name(i)
    return name.decode() if name else str(i)


def _user_bytes(user):
    """(bytes, pseudonym): exactly one of them is used."""
    if isinstance(user, Pseudonym):
        return None, int(user)
    if isinstance(user, str):
        return user.encode("utf-8"), 0
    if isinstance(user, (bytes, bytearray, memoryview)):
        return bytes(user), 0
    raise TypeError("user must be str, bytes or Pseudonym, not %s"
                    % type(user).__name__)


def _event_type(t):
    if isinstance(t, str):
        try:
            return EventType[t.upper()]
        except KeyError:
            raise ValueError("unknown event type name %r" % t) from None
    return int(t)


def _finite_or_zero(x):
    return x if math.isfinite(x) else 0.0


def _options_struct(options, kw):
    """A pacing_options from an Options and keyword overrides."""
    o = Options() if options is None else dataclasses.replace(options)
    for k, v in kw.items():
        if not any(f.name == k for f in dataclasses.fields(Options)):
            raise TypeError("unknown option %r" % k)
        setattr(o, k, v)
    s = N.Options()
    _lib.pacing_options_init(byref(s))
    flags = 0
    if o.single_thread:
        flags |= OptionFlag.SINGLE_THREAD
    if o.require_consent:
        flags |= OptionFlag.REQUIRE_CONSENT
    if o.random_seed:
        flags |= OptionFlag.RANDOM_SEED
    if o.secret is not None:
        secret = bytes(o.secret)
        if len(secret) != 16:
            raise ValueError("secret must be 16 bytes, not %d" % len(secret))
        s.secret[:] = list(secret)
        flags |= OptionFlag.SECRET
    s.flags = int(flags)
    for f in dataclasses.fields(Options):
        if f.name in ("secret", "single_thread", "require_consent", "random_seed"):
            continue
        v = getattr(o, f.name)
        if v is not None:
            setattr(s, f.name, v)
    return s, bool(o.single_thread)


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Context:
    """A libpacing context: users, scores, decision points, rules, rewards.

        with pacing.Context(seed=42) as ctx:
            ctx.push(type=EventType.DISMISS, user="u1", time_ms=1000)
            print(ctx.scores("u1", 2000).fatigue)

    Keyword arguments are the fields of pacing.Options (or pass options=).
    callback_errors says what happens when a Python rule or reward callback
    raises (the exception never crosses into C: a rule that raised counts as
    a veto, a reward callback that raised as "the event does not count"):
      "store" (default): the exception is appended to ctx.callback_errors
                         (the latest 256 are kept) and the call returns
                         normally;
      "raise":           once the library call has completed, it raises
                         pacing.CallbackError (errors, and result: what the
                         call returned), chained to the first exception.
    KeyboardInterrupt and SystemExit raised in a callback are re-raised after
    the call in either mode.

    Single-threaded contexts (single_thread=True) are additionally guarded
    by a lock, so Python threads sharing one are serialised. A context must
    not be closed while another thread uses it. Callbacks must not call the
    context (RuntimeError): the library holds locks while it runs them.
    """

    def __init__(self, options=None, *, callback_errors="store", **kw):
        self._setup(callback_errors)
        opts, single = _options_struct(options, kw)
        self._lock = threading.Lock() if single else _NoLock()
        h = c_void_p()
        rc = _lib.pacing_ctx_new(byref(opts), byref(h))
        if rc < 0:
            _raise(rc, None)
        self._h = h.value

    def _setup(self, callback_errors):
        if callback_errors not in ("store", "raise"):
            raise ValueError("callback_errors must be 'store' or 'raise'")
        self._h = None
        self._mode = callback_errors
        self._lock = _NoLock()
        self._tls = threading.local()
        self._keep = []                      # CFUNCTYPEs and module structs
        self._points = {}                    # id -> Point
        self._point_ids = {}                 # name -> id
        self._rule_msgs = collections.OrderedDict()  # (rule, reason, details) -> phrase
        self._msg_lock = threading.Lock()
        self.callback_errors = collections.deque(maxlen=256)

    # ---- construction from YAML -------------------------------------------

    @classmethod
    def _from_yaml(cls, call, where, options, callback_errors, kw):
        self = cls.__new__(cls)
        self._setup(callback_errors)
        base, single = (None, False)
        if options is not None or kw:
            base, single = _options_struct(options, kw)
        self._lock = threading.Lock() if single else _NoLock()
        err = N.new(N.ConfigError)
        h = c_void_p()
        rc = call(byref(base) if base is not None else None, byref(h), byref(err))
        if rc < 0:
            msg = err.message.decode("utf-8", "replace")
            if not msg:
                msg = (_lib.pacing_errmsg(None) or b"").decode("utf-8", "replace")
            if rc == Status.E_CONFIG:
                raise ConfigError(rc, msg, _strerror(rc),
                                  file=err.file.decode("utf-8", "replace") or where,
                                  line=err.line, column=err.column)
            if where not in msg:
                msg = "%s: %s" % (where, msg)
            raise error_class(rc)(rc, msg, _strerror(rc))
        self._h = h.value
        return self

    @classmethod
    def from_yaml(cls, path, options=None, *, callback_errors="store", **kw):
        """A context from a YAML deployment file (docs/config-reference.md).
        options/keywords supply defaults the file overrides. Raises
        ConfigError (file, line, column, message) or PacingIOError."""
        p = os.fsencode(path)
        return cls._from_yaml(
            lambda base, out, err: _lib.pacing_ctx_new_from_yaml(p, base, out, err),
            os.fsdecode(path), options, callback_errors, kw)

    @classmethod
    def from_yaml_string(cls, text, options=None, *, callback_errors="store", **kw):
        """The same from YAML text (str or bytes); errors name "<string>"."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        return cls._from_yaml(
            lambda base, out, err: _lib.pacing_ctx_new_from_yaml_string(
                data, len(data), base, out, err),
            "<string>", options, callback_errors, kw)

    # ---- lifetime -----------------------------------------------------------

    def close(self, _free=_lib.pacing_ctx_free):
        """Free the context. Idempotent; later calls raise ValueError."""
        h, self._h = getattr(self, "_h", None), None
        if h:
            _free(h)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def closed(self):
        return not self._h

    def __repr__(self):
        return "<pacing.Context %s>" % ("closed" if self.closed else "at 0x%x" % self._h)

    @contextlib.contextmanager
    def _use(self):
        """Check the context can be called, then hold its lock (if any)."""
        if getattr(self._tls, "in_callback", False):
            raise RuntimeError("a rule or reward callback must not call the "
                               "library (it runs under the library's locks)")
        with self._lock:
            if not self._h:
                raise ValueError("operation on a closed pacing.Context")
            yield self._h

    # ---- callbacks: errors stay on the Python side --------------------------

    def _record(self, exc):
        errs = getattr(self._tls, "errors", None)
        if errs is None:
            errs = self._tls.errors = []
        errs.append(exc)

    def _settle_callbacks(self, result):
        """After a call that may have run callbacks: store or raise what
        they raised. Returns result."""
        errs = getattr(self._tls, "errors", None)
        if not errs:
            return result
        self._tls.errors = None
        for e in errs:
            if not isinstance(e, Exception):
                raise e                    # KeyboardInterrupt, SystemExit
        if self._mode == "raise":
            raise CallbackError(errs, result) from errs[0]
        self.callback_errors.extend(errs)
        return result

    @contextlib.contextmanager
    def _in_callback(self):
        self._tls.in_callback = True
        try:
            yield
        finally:
            self._tls.in_callback = False

    # ---- events ------------------------------------------------------------

    def _fill_event(self, s, ev):
        """Fill the pacing_event s from an Event; returns what must be kept
        alive while s is used."""
        s.size = ctypes.sizeof(N.Event)
        s.type = _event_type(ev.type) & _UINT32_MAX
        flags = int(ev.flags)
        keep = None
        if ev.user is None:
            raise TypeError("an event needs a user")
        data, pseudo = _user_bytes(ev.user)
        if data is None:
            flags |= EventFlag.PSEUDONYM
            s.pseudonym = pseudo
        else:
            # never NULL, also for b"": the library then says what is wrong
            keep = ctypes.create_string_buffer(data, len(data) + 1)
            s.user = ctypes.addressof(keep)
            s.user_len = len(data)
        s.flags = int(flags) & _UINT32_MAX
        if ev.time_ms is None:
            raise TypeError("an event needs time_ms")
        s.time_ms = int(ev.time_ms)
        s.value = float(ev.value)
        s.target = int(ev.target)
        s.channel = int(ev.channel) & _UINT32_MAX
        return keep

    def push(self, event=None, /, **fields):
        """Push one event: push(Event(...)) or push(type=..., user=...,
        time_ms=..., value=0.0, target=0, channel=0, flags=0).
        Returns True if applied, False if deliberately dropped (bot,
        debounced, no consent). Raises a PacingError subclass otherwise."""
        if event is None:
            event = Event(**fields)
        elif fields:
            raise TypeError("push() takes an Event or keyword fields, not both")
        s = N.Event()
        keep = self._fill_event(s, event)
        with self._use() as h:
            rc = _lib.pacing_push(h, byref(s))
            if rc < 0:
                self._tls.errors = None
                _raise(rc, h)
        del keep
        return self._settle_callbacks(rc == Status.OK)

    def push_batch(self, events):
        """Push events in order, all or nothing as to validity: if one is
        invalid nothing is applied and its exception has `.index`. Returns
        the number of events (drops are counted in stats(), not here)."""
        events = list(events)
        if not events:
            return 0
        arr = (N.Event * len(events))()
        keep = [self._fill_event(arr[i], ev) for i, ev in enumerate(events)]
        done = c_size_t(0)
        with self._use() as h:
            rc = _lib.pacing_push_batch(h, arr, len(events), byref(done))
            if rc < 0:
                self._tls.errors = None
                try:
                    _raise(rc, h, "event %d: " % done.value)
                except PacingError as e:
                    e.index = done.value
                    raise
        del keep
        return self._settle_callbacks(done.value)

    # ---- users ---------------------------------------------------------------

    def pseudonym(self, user):
        """The user's 64-bit pseudonym under this context's secret."""
        data, pseudo = _user_bytes(user)
        if data is None:
            return Pseudonym(pseudo)
        out = c_uint64()
        with self._use() as h:
            rc = _lib.pacing_pseudonym(h, data, len(data), byref(out))
            if rc < 0:
                _raise(rc, h)
        return Pseudonym(out.value)

    def forget(self, user):
        """Remove a user's state everywhere (pending decisions, log entries).
        True if the user was held, False if not."""
        data, pseudo = _user_bytes(user)
        with self._use() as h:
            if data is None:
                rc = _lib.pacing_forget_pseudonym(h, pseudo)
            else:
                rc = _lib.pacing_forget(h, data, len(data))
            if rc == Status.E_NOTFOUND:
                return False
            if rc < 0:
                _raise(rc, h)
        return True

    def expire(self, now_ms):
        """Drop users idle for longer than the TTL; returns how many."""
        n = c_uint64()
        with self._use() as h:
            rc = _lib.pacing_expire(h, int(now_ms), byref(n))
            if rc < 0:
                _raise(rc, h)
        return n.value

    def stats(self):
        """Context counters as a Stats."""
        s = N.new(N.Stats)
        with self._use() as h:
            rc = _lib.pacing_stats_get(h, byref(s))
            if rc < 0:
                _raise(rc, h)
        return Stats(**{f.name: getattr(s, f.name) for f in dataclasses.fields(Stats)})

    # ---- scores ----------------------------------------------------------------

    def scores(self, user, now_ms):
        """The user's scores at now_ms. NotFound for an unknown user."""
        data, pseudo = _user_bytes(user)
        s = N.new(N.Scores)
        with self._use() as h:
            if data is None:
                rc = _lib.pacing_scores_get_pseudonym(h, pseudo, int(now_ms), byref(s))
            else:
                rc = _lib.pacing_scores_get(h, data, len(data), int(now_ms), byref(s))
            if rc < 0:
                _raise(rc, h)
        return Scores(
            fatigue=s.fatigue, cognitive_load=s.cognitive_load,
            attention=s.attention, engagement=s.engagement,
            micro_velocity=s.micro_velocity, drop_off_risk=s.drop_off_risk,
            last_seen_ms=s.last_seen_ms, session_age_ms=_opt_time(s.session_age_ms),
            exposures_1m=s.exposures_1m, exposures_1h=s.exposures_1h,
            exposures_1d=s.exposures_1d)

    def contributions(self, user, now_ms, kind=ScoreKind.FATIGUE):
        """The inputs of one score, largest contribution first."""
        data, pseudo = _user_bytes(user)
        cap = 17  # PACING_INPUT_COUNT: no score has more inputs
        arr = (N.Contribution * cap)()
        for c in arr:
            c.size = ctypes.sizeof(N.Contribution)
        n = c_size_t()
        with self._use() as h:
            if data is None:
                rc = _lib.pacing_contributions_pseudonym(h, pseudo, int(now_ms), int(kind),
                                                         arr, cap, byref(n))
            else:
                rc = _lib.pacing_contributions(h, data, len(data), int(now_ms), int(kind),
                                               arr, cap, byref(n))
            if rc < 0:
                _raise(rc, h)
        return [Contribution(input=_coerce(Input, c.input), name=_input_name(c.input),
                             raw=c.raw, normalized=c.normalized, weight=c.weight,
                             contribution=c.contribution)
                for c in arr[:min(n.value, cap)]]

    def weight(self, kind, input):
        """The weight of an input within a score."""
        out = c_double()
        with self._use() as h:
            rc = _lib.pacing_weight_get(h, int(kind), int(input), byref(out))
            if rc < 0:
                _raise(rc, h)
        return out.value

    def set_weight(self, kind, input, weight):
        """Set the weight of an input within a score (configuration)."""
        with self._use() as h:
            rc = _lib.pacing_weight_set(h, int(kind), int(input), float(weight))
            if rc < 0:
                _raise(rc, h)

    def decay_eval(self, name, age_ms, params=None):
        """w(age_ms) of a decay module (params: up to 4 values, None: the
        module's defaults)."""
        p = self._decay_params(params)
        out = c_double()
        with self._use() as h:
            rc = _lib.pacing_decay_eval(h, name.encode(), p, float(age_ms), byref(out))
            if rc < 0:
                _raise(rc, h)
        return out.value

    def set_exposure_decay(self, name, params=None):
        """The decay of the recent-exposures fatigue input."""
        p = self._decay_params(params)
        with self._use() as h:
            rc = _lib.pacing_exposure_decay_set(h, name.encode(), p)
            if rc < 0:
                _raise(rc, h)

    @staticmethod
    def _decay_params(params):
        if params is None:
            return None
        params = [float(x) for x in params]
        if len(params) > 4:
            raise ValueError("a decay module takes at most 4 parameters")
        return (c_double * 4)(*(params + [0.0] * (4 - len(params))))

    def hazard_baseline(self, age_ms):
        """(hazard, at_risk) of the drop-off model at session age age_ms."""
        hz, risk = c_double(), c_double()
        with self._use() as h:
            rc = _lib.pacing_hazard_baseline(h, int(age_ms), byref(hz), byref(risk))
            if rc < 0:
                _raise(rc, h)
        return hz.value, risk.value

    # ---- decision points -----------------------------------------------------

    def add_point(self, name, actions, policy="thompson", params=None, *,
                  quiet_actions=(), safe_action=None, context_dim=0,
                  scores_context=False, recovery=None, attribution_ms=None,
                  default_reward=None, rewards=()):
        """Create a decision point and return its Point.

        actions: 2..64 names. policy: "thompson", "gaussian_thompson",
        "ucb1", "kl_ucb", "epsilon_greedy", "softmax", "linucb",
        "linear_thompson"; params: its parameters by name.
        quiet_actions: names (or indices) of actions that show nothing;
        safe_action: the quiet action returned when safety vetoes showing.
        recovery: a decay module name, or (name, [up to 4 params]).
        default_reward: if not None, unrewarded decisions learn it when
        attribution_ms ends. rewards: module names (weight 1) or
        (module, weight) pairs, built-in or registered with register_reward.
        """
        actions = [str(a) for a in actions]
        spec = N.new(N.PointSpec)
        name_b = name.encode()
        spec.name = name_b
        act_arr = (ctypes.c_char_p * len(actions))(*[a.encode() for a in actions])
        spec.actions = act_arr
        spec.n_actions = len(actions)
        spec.policy = policy.encode() if policy is not None else None
        params = dict(params or {})
        par_names = [k.encode() for k in params]
        par_arr = (N.Param * len(params))(*[N.Param(k, float(v)) for k, v in
                                            zip(par_names, params.values())])
        spec.params = par_arr if params else None
        spec.n_params = len(params)
        spec.context_dim = context_dim
        flags = PointFlag.SCORES_CONTEXT if scores_context else PointFlag.NONE
        rec_name = rec_params = None
        if recovery is not None:
            if isinstance(recovery, str):
                rec_name = recovery.encode()
            else:
                rname, rparams = recovery
                rec_name = rname.encode()
                rec_params = self._decay_params(rparams)
        spec.recovery_decay = rec_name
        if rec_params is not None:
            spec.recovery_params = ctypes.cast(rec_params, ctypes.POINTER(c_double))
        if attribution_ms is not None:
            spec.attribution_ms = attribution_ms
        if default_reward is not None:
            flags |= PointFlag.DEFAULT_REWARD
            spec.default_reward = float(default_reward)
        spec.flags = int(flags)
        rw = [(r, 1.0) if isinstance(r, str) else (r[0], float(r[1])) for r in rewards]
        rw_names = [m.encode() for m, _ in rw]
        rw_arr = (N.RewardRule * len(rw))(*[N.RewardRule(m, w) for m, (_, w) in
                                            zip(rw_names, rw)])
        spec.rewards = rw_arr if rw else None
        spec.n_rewards = len(rw)

        def index(a):
            if isinstance(a, str):
                if a not in actions:
                    raise ValueError("point %r has no action %r" % (name, a))
                return actions.index(a)
            return int(a)
        mask = 0
        for a in quiet_actions:
            mask |= 1 << index(a)
        spec.quiet_actions = mask
        spec.safe_action = -1 if safe_action is None else index(safe_action)
        pid = c_uint32()
        with self._use() as h:
            rc = _lib.pacing_point_add(h, byref(spec), byref(pid))
            if rc < 0:
                _raise(rc, h)
        pt = Point(pid.value, name, tuple(actions))
        self._points[pt.id] = pt
        self._point_ids[name] = pt.id
        return pt

    def point(self, point):
        """The Point of a name, id or Point (NotFound if there is none)."""
        if isinstance(point, Point):
            return point
        if isinstance(point, str):
            pid = self._point_ids.get(point)
            if pid is None:
                out = c_uint32()
                with self._use() as h:
                    rc = _lib.pacing_point_find(h, point.encode(), byref(out))
                    if rc < 0:
                        _raise(rc, h)
                pid = out.value
            pt = self._points.get(pid)
            if pt is None or pt.name != point:
                pt = Point(pid, point, self._action_names(pid))
                self._points[pid] = pt
                self._point_ids[point] = pid
            return pt
        pid = int(point)
        pt = self._points.get(pid)
        if pt is None:
            # The C API has no id -> name lookup: such a point stays nameless
            # until it is asked for by name.
            actions = self._action_names(pid)
            if not actions:
                raise error_class(Status.E_NOTFOUND)(
                    Status.E_NOTFOUND, "no decision point %d" % pid,
                    _strerror(Status.E_NOTFOUND))
            pt = Point(pid, None, actions)
        return pt

    def _action_names(self, pid):
        names = []
        with self._use() as h:
            for a in range(64):
                n = _lib.pacing_action_name(h, pid, a)
                if n is None:
                    break
                names.append(n.decode())
        return tuple(names)

    # ---- safety rules ----------------------------------------------------------

    def add_rule(self, module, point=None, **params):
        """Add an instance of a rule module, for one point (a name or Point)
        or all (None); parameters by name, e.g.
        add_rule("min_gap", "checkout_cta", gap_ms=20000). Returns its id."""
        if isinstance(point, Point):
            point = point.name
        spec = N.new(N.RuleSpec)
        mod_b = module.encode()
        spec.module = mod_b
        pt_b = point.encode() if point is not None else None
        spec.point = pt_b
        names = [k.encode() for k in params]
        arr = (N.Param * len(params))(*[N.Param(k, float(v)) for k, v in
                                        zip(names, params.values())])
        spec.params = arr if params else None
        spec.n_params = len(params)
        rid = c_uint32()
        with self._use() as h:
            rc = _lib.pacing_rule_add(h, byref(spec), byref(rid))
            if rc < 0:
                _raise(rc, h)
        return rid.value

    def register_rule(self, name, fn, params=None, explain=None):
        """Register a safety-rule module written in Python; add instances
        with add_rule(name, ...).

        fn(view: RuleView, params: dict) returns None (or Verdict.ALLOW) to
        allow, Veto(reason, details, message) or Delay(retry_after_ms,
        reason, details, message). params: {name: default} (at most 8).
        Explanations use, in order: explain(veto: VetoRecord, params) -> str
        if given; else the message of the Veto/Delay that gave the verdict
        (remembered by (reason, details)); else the library's
        "<name> vetoed" / "<name> asks to wait".
        An exception in fn counts as a veto with reason 0 (see Context's
        callback_errors for where the exception goes).
        """
        params = dict(params or {})
        pnames = list(params)
        mod = N.new(N.RuleModule)
        name_b = name.encode()
        mod.name = name_b
        names_arr = (ctypes.c_char_p * max(1, len(pnames)))(*[p.encode() for p in pnames])
        defs_arr = (c_double * max(1, len(pnames)))(*[float(v) for v in params.values()])
        mod.param_names = names_arr if pnames else None
        mod.param_defaults = defs_arr if pnames else None
        mod.n_params = len(pnames)
        ctx = self

        def param_dict(p):
            return {k: p[i] for i, k in enumerate(pnames)}

        def check(opaque, p, view_p, out_p):
            with ctx._in_callback():
                try:
                    v = view_p[0]
                    if v.size != ctypes.sizeof(N.RuleView):
                        raise SizeMismatchError(Status.E_SIZE, _SIZE_MSG % (
                            "pacing_rule_view", v.size, ctypes.sizeof(N.RuleView)))
                    out = out_p[0]
                    r = fn(ctx._view(v), param_dict(p))
                    if r is None or r is False or (isinstance(r, int) and not
                                                   isinstance(r, bool) and r == Verdict.ALLOW):
                        return 0
                    if r is Verdict.VETO:
                        r = Veto()
                    if not isinstance(r, (Veto, Delay)):
                        raise TypeError("rule %r returned %r; expected None, "
                                        "Veto(...) or Delay(...)" % (name, r))
                    details = [float(d) for d in r.details]
                    if len(details) > 2:
                        raise ValueError("rule %r: at most 2 details" % name)
                    details += [0.0] * (2 - len(details))
                    out.verdict = Verdict.DELAY if isinstance(r, Delay) else Verdict.VETO
                    out.reason = int(r.reason)
                    if isinstance(r, Delay):
                        out.retry_after_ms = int(r.retry_after_ms)
                    out.detail[0], out.detail[1] = details
                    if r.message:
                        key = (name, int(r.reason), _finite_or_zero(details[0]),
                               _finite_or_zero(details[1]))
                        with ctx._msg_lock:
                            ctx._rule_msgs[key] = str(r.message)
                            ctx._rule_msgs.move_to_end(key)
                            while len(ctx._rule_msgs) > 4096:
                                ctx._rule_msgs.popitem(last=False)
                    return 0
                except BaseException as e:  # never into C
                    ctx._record(e)
                    return 1

        def explain_cb(opaque, p, veto_p, buf, length):
            with ctx._in_callback():
                try:
                    v = veto_p[0]
                    text = None
                    if explain is not None:
                        pt = getattr(ctx._tls, "explaining", None)
                        text = explain(ctx._veto_record(v, pt), param_dict(p))
                    else:
                        with ctx._msg_lock:
                            text = ctx._rule_msgs.get(
                                (name, v.reason, v.detail[0], v.detail[1]))
                    if text and length > 0:
                        data = str(text).encode("utf-8")[:length - 1]
                        # do not cut a UTF-8 sequence in half
                        data = data.decode("utf-8", "ignore").encode("utf-8")
                        ctypes.memmove(buf, data, len(data))
                        ctypes.memset(buf + len(data), 0, 1)
                except BaseException as e:
                    ctx._record(e)

        mod.check = N.RuleCheckFn(check)
        mod.explain = N.RuleExplainFn(explain_cb)
        with self._use() as h:
            rc = _lib.pacing_rule_register(h, byref(mod))
            if rc < 0:
                _raise(rc, h)
        # The library copies names and defaults but calls the functions for
        # as long as the context lives.
        self._keep.append((mod, names_arr, defs_arr, name_b, fn, explain))

    def _view(self, v):
        n = min(v.n_exposures, 8)
        exps = tuple(Exposure(v.exposure_ms[i],
                              None if v.exposure_point[i] == _UINT32_MAX
                              else v.exposure_point[i],
                              v.exposure_channel[i]) for i in range(n))
        return RuleView(
            point=v.point_name.decode() if v.point_name else None,
            point_id=v.point,
            action=v.action_name.decode() if v.action_name else None,
            action_id=v.action, channel=_coerce(Channel, v.channel),
            request_flags=RequestFlag(v.request_flags), now_ms=v.now_ms,
            utc_offset_min=v.utc_offset_min, has_user=bool(v.has_user),
            fatigue=v.fatigue, cognitive_load=v.cognitive_load,
            drop_off_risk=v.drop_off_risk, attention=v.attention,
            engagement=v.engagement, last_error_ms=_opt_time(v.last_error_ms),
            form_started_ms=_opt_time(v.form_started_ms),
            session_start_ms=_opt_time(v.session_start_ms),
            session_exposures=v.session_exposures, exposures=exps,
            exposures_1m=v.exposures_1m, exposures_1h=v.exposures_1h,
            exposures_1d=v.exposures_1d)

    @staticmethod
    def _veto_record(v, pt):
        action = None
        if pt is not None and v.action < len(pt.actions):
            action = pt.actions[v.action]
        return VetoRecord(rule=v.rule, action=action, action_id=v.action,
                          verdict=_coerce(Verdict, v.verdict), reason=v.reason,
                          retry_after_ms=v.retry_after_ms or None,
                          details=(v.detail[0], v.detail[1]))

    # ---- rewards ---------------------------------------------------------------

    def register_reward(self, name, fn):
        """Register a reward module written in Python; name it in
        add_point(rewards=[(name, weight)]).

        fn(event: Event, since_ms: int, point: str, action: str) judges an
        event of the decided user inside the attribution window (the event's
        user is the user's Pseudonym). It returns None (or False): the event
        does not count; a number: its reward (times the rule's weight); or
        (value, final): final=True ends attribution now. If fn accepts a
        keyword dwell_baseline_ms it receives the user's baseline dwell.
        An exception counts as "does not count" (see callback_errors).
        """
        try:
            sig = inspect.signature(fn)
            wants_dwell = "dwell_baseline_ms" in sig.parameters or any(
                p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
        except (TypeError, ValueError):
            wants_dwell = False
        ctx = self

        def on_event(opaque, inp, value_p, final_p):
            with ctx._in_callback():
                try:
                    i = inp[0]
                    if i.size != ctypes.sizeof(N.RewardInput):
                        raise SizeMismatchError(Status.E_SIZE, _SIZE_MSG % (
                            "pacing_reward_input", i.size, ctypes.sizeof(N.RewardInput)))
                    e = i.event[0]
                    ev = Event(type=_coerce(EventType, e.type),
                               user=Pseudonym(e.pseudonym), time_ms=e.time_ms,
                               value=e.value, target=e.target,
                               channel=_coerce(Channel, e.channel),
                               flags=EventFlag(e.flags))
                    pt = ctx._points.get(i.point)
                    pname = pt.name if pt else None
                    aname = pt.actions[i.action] if pt and i.action < len(pt.actions) else None
                    kw = {"dwell_baseline_ms": i.dwell_baseline_ms} if wants_dwell else {}
                    r = fn(ev, i.since_decision_ms, pname, aname, **kw)
                    if r is None or r is False:
                        return 0
                    if isinstance(r, tuple):
                        value, final = r
                    else:
                        value, final = r, False
                    value_p[0] = float(value)
                    final_p[0] = 1 if final else 0
                    return 1
                except BaseException as e:  # never into C
                    ctx._record(e)
                    return 0

        mod = N.new(N.RewardModule)
        name_b = name.encode()
        mod.name = name_b
        mod.on_event = N.RewardOnEventFn(on_event)
        with self._use() as h:
            rc = _lib.pacing_reward_register(h, byref(mod))
            if rc < 0:
                _raise(rc, h)
        self._keep.append((mod, name_b, fn))

    # ---- decisions ---------------------------------------------------------------

    def decide(self, point, user, now_ms, context=None, ineligible=(), *,
               channel=0, utc_offset_min=0, consent=None, opted_out=False):
        """Ask a decision point (name, id or Point) for a user at now_ms.

        context: the caller's features (context_dim floats, contextual
        policies). ineligible: actions (names or indices) asleep for this
        call. consent: True sends CONSENT, False NO_CONSENT, None neither.
        opted_out: the user opted out (no user state; the opt_out rule
        vetoes showing). Returns a Decision; VetoedError when safety vetoed
        everything and the point has no safe action.
        """
        pt = self.point(point)
        data, pseudo = _user_bytes(user)
        rq = N.new(N.Request)
        rq.point = pt.id
        flags = RequestFlag.NONE
        keep = None
        if data is None:
            flags |= RequestFlag.PSEUDONYM
            rq.pseudonym = pseudo
        else:
            keep = ctypes.create_string_buffer(data, len(data) + 1)
            rq.user = ctypes.addressof(keep)
            rq.user_len = len(data)
        if consent is True:
            flags |= RequestFlag.CONSENT
        elif consent is False:
            flags |= RequestFlag.NO_CONSENT
        if opted_out:
            flags |= RequestFlag.OPTED_OUT
        rq.flags = int(flags)
        rq.now_ms = int(now_ms)
        mask = 0
        for a in ineligible:
            mask |= 1 << pt.action_id(a)
        rq.ineligible = mask
        ctx_arr = None
        if context is not None:
            vals = [float(x) for x in context]
            ctx_arr = (c_double * max(1, len(vals)))(*vals)
            rq.context = ctx_arr
            rq.context_len = len(vals)
        rq.channel = int(channel) & _UINT32_MAX
        rq.utc_offset_min = int(utc_offset_min)
        out = N.new(N.Decision)
        with self._use() as h:
            rc = _lib.pacing_decide(h, byref(rq), byref(out))
            if rc < 0:
                self._tls.errors = None
                _raise(rc, h)
        del keep, ctx_arr
        return self._settle_callbacks(self._decision(out, pt))

    def _decision(self, d, pt):
        def top(t):
            return tuple(TopInput(_coerce(Input, t.input[k]), _input_name(t.input[k]),
                                  t.share[k]) for k in range(2) if t.input[k] >= 0)
        act = pt.actions[d.action] if d.action < len(pt.actions) else None
        return Decision(
            id=d.id, point=pt.name, point_id=d.point, action=act,
            action_id=d.action, propensity=d.propensity,
            reasons=Reason(d.reasons), time_ms=d.time_ms,
            scores=DecisionScores(
                fatigue=d.fatigue, cognitive_load=d.cognitive_load,
                drop_off_risk=d.drop_off_risk, attention=d.attention,
                engagement=d.engagement, fatigue_top=top(d.fatigue_top),
                load_top=top(d.load_top)),
            retry_after_ms=d.retry_after_ms or None,
            vetoes=tuple(self._veto_record(d.vetoes[k], pt)
                         for k in range(min(d.n_vetoes, 4))),
            _raw=bytes(d))

    def explain(self, decision):
        """The human sentence explaining a Decision ("why now?")."""
        if not isinstance(decision, Decision) or not decision._raw:
            raise TypeError("explain() needs a Decision returned by decide()")
        d = N.Decision.from_buffer_copy(decision._raw)
        pt = self._points.get(decision.point_id)
        size = 512
        while True:
            buf = ctypes.create_string_buffer(size)
            with self._use() as h:
                self._tls.explaining = pt
                try:
                    n = _lib.pacing_explain(h, byref(d), buf, size)
                finally:
                    self._tls.explaining = None
                if n < 0:
                    self._tls.errors = None
                    _raise(n, h)
            if n < size:
                return self._settle_callbacks(buf.value.decode("utf-8", "replace"))
            self._tls.errors = None       # asked again with room for all
            size = n + 1

    def reward(self, decision, value, now_ms):
        """Reward a pending decision (a Decision or its id) explicitly.
        NotFound if it is unknown or already settled."""
        did = decision.id if isinstance(decision, Decision) else int(decision)
        with self._use() as h:
            rc = _lib.pacing_reward(h, did, float(value), int(now_ms))
            if rc < 0:
                _raise(rc, h)

    def settle(self, now_ms):
        """Settle decisions whose attribution window ended; returns how many."""
        n = c_uint64()
        with self._use() as h:
            rc = _lib.pacing_settle(h, int(now_ms), byref(n))
            if rc < 0:
                _raise(rc, h)
        return n.value

    def arm_stats(self, point, action):
        """Statistics of one action (name or index) of a point."""
        pt = self.point(point)
        a = pt.action_id(action)
        s = N.new(N.ArmStats)
        with self._use() as h:
            rc = _lib.pacing_arm_stats_get(h, pt.id, a, byref(s))
            if rc < 0:
                _raise(rc, h)
        params = {}
        if s.param_a_name:
            params[s.param_a_name.decode()] = s.param_a
        if s.param_b_name:
            params[s.param_b_name.decode()] = s.param_b
        return ArmStats(decisions=s.decisions, rewards=s.rewards, pulls=s.pulls,
                        reward_sum=s.reward_sum, mean=s.mean, params=params,
                        last_update_ms=_opt_time(s.last_update_ms))

    def decision_stats(self):
        """Decision-layer counters as a DecisionStats."""
        s = N.new(N.DecisionStats)
        with self._use() as h:
            rc = _lib.pacing_decision_stats_get(h, byref(s))
            if rc < 0:
                _raise(rc, h)
        return DecisionStats(**{f.name: getattr(s, f.name)
                                for f in dataclasses.fields(DecisionStats)})

    # ---- decision log ----------------------------------------------------------

    def log(self, *, with_dropped=False):
        """Take the decision log's entries (oldest first) as LogEntry values;
        they are removed from the log. with_dropped=True returns
        (entries, dropped): how many the full log overwrote since the last
        read."""
        raw = []
        problems = []

        def take(opaque, p):
            try:
                if p[0].size != ctypes.sizeof(N.LogEntry):
                    problems.append(p[0].size)
                    return 1
                e = N.LogEntry()
                ctypes.memmove(byref(e), p, ctypes.sizeof(N.LogEntry))
                raw.append(e)
                return 0
            except BaseException as exc:   # stop; the rest stays in the log
                problems.append(exc)
                return 1
        cb = N.LogFn(take)
        dropped = c_uint64()
        with self._use() as h:
            rc = _lib.pacing_log_read(h, cb, None, byref(dropped))
            if rc < 0:
                _raise(rc, h)
        for p in problems:
            if isinstance(p, BaseException):
                raise p
            raise SizeMismatchError(Status.E_SIZE, _SIZE_MSG % (
                "pacing_log_entry", p, ctypes.sizeof(N.LogEntry)))
        entries = []
        for e in raw:
            pt = self._points.get(e.point)
            entries.append(LogEntry(
                id=e.id, time_ms=e.time_ms,
                pseudonym=Pseudonym(e.pseudonym) if e.pseudonym else None,
                point=pt.name if pt else None, point_id=e.point,
                proposed_action=None if e.proposed_action == _UINT32_MAX
                else e.proposed_action,
                final_action=e.final_action, reasons=Reason(e.reasons),
                propensity=e.propensity, outcome=_coerce(Outcome, e.outcome),
                settled_early=bool(e.settled_early), reward=e.reward,
                reward_time_ms=_opt_time(e.reward_time_ms),
                policy_version=e.policy_version))
        return (entries, dropped.value) if with_dropped else entries

    # ---- snapshots -------------------------------------------------------------

    def snapshot_save(self, path):
        """Save the learned state to path atomically (docs/snapshot-format.md)."""
        with self._use() as h:
            rc = _lib.pacing_snapshot_save(h, os.fsencode(path))
            if rc < 0:
                _raise(rc, h)

    def snapshot_load(self, path):
        """Replace the learned state with a snapshot file's. On any error
        (CorruptError, VersionError, ConfigError, ...) nothing changes."""
        with self._use() as h:
            rc = _lib.pacing_snapshot_load(h, os.fsencode(path))
            if rc < 0:
                _raise(rc, h)

    def snapshot_bytes(self):
        """The snapshot as bytes (through pacing_snapshot_write)."""
        chunks = []
        failure = []

        def write(opaque, buf, n):
            try:
                chunks.append(ctypes.string_at(buf, n))
                return 0
            except BaseException as e:
                failure.append(e)
                return 1
        cb = N.WriteFn(write)
        with self._use() as h:
            rc = _lib.pacing_snapshot_write(h, cb, None)
            if rc < 0:
                if failure:
                    raise failure[0]
                _raise(rc, h)
        return b"".join(chunks)

    def load_snapshot_bytes(self, data):
        """Replace the learned state with a snapshot given as bytes."""
        data = bytes(data)
        src = ctypes.create_string_buffer(data, len(data))
        base = ctypes.addressof(src)
        pos = [0]
        failure = []

        def read(opaque, buf, n):
            try:
                k = min(n, len(data) - pos[0])
                if k > 0:
                    ctypes.memmove(buf, base + pos[0], k)
                    pos[0] += k
                return k
            except BaseException as e:
                failure.append(e)
                return -1
        cb = N.ReadFn(read)
        with self._use() as h:
            rc = _lib.pacing_snapshot_read(h, cb, None)
            if rc < 0:
                if failure:
                    raise failure[0]
                _raise(rc, h)
