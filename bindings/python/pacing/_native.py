"""ctypes view of libpacing: finding the library, struct mirrors, prototypes.

Everything here mirrors include/pacing.h, the only source of truth for the
layouts. Each Structure lists the header's fields in the header's order with
the same C types; ctypes then applies the platform's C alignment rules, so
padding comes out as the C compiler's. Every struct that crosses the ABI
starts with `size`, which the library checks against its own sizeof: a
mirror that drifted from the header is refused with PACING_E_SIZE (the unit
tests pass every mirror through the library), and structs the library hands
to callbacks are checked the other way round (see _context.py).

Nothing in this module is public API; import from `pacing` instead.
"""

import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double,
                    c_int, c_int32, c_int64, c_long, c_size_t, c_uint,
                    c_uint8, c_uint32, c_uint64, c_void_p)

#: The major version of the C API this binding was written for. A library of
#: another major version has another ABI and is refused at import.
EXPECTED_MAJOR = 1
#: The oldest minor version (of EXPECTED_MAJOR) whose functions are used.
EXPECTED_MINOR = 0

SONAME = "libpacing.so.1"
ENV_VAR = "PACING_LIBRARY"

# --------------------------------------------------------------------------
# Finding and loading the library
# --------------------------------------------------------------------------


def _build_tree_candidates():
    """The repository's build/ directory, when this package is imported from
    a source checkout (bindings/python/pacing -> ../../../build)."""
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, os.pardir, os.pardir, os.pardir))
    # Only trust the guess if it really is a libpacing checkout.
    if not os.path.isfile(os.path.join(repo, "include", "pacing.h")):
        return []
    build = os.path.join(repo, "build")
    return [os.path.join(build, SONAME), os.path.join(build, "libpacing.so")]


def _candidates():
    """(description, path-or-name) pairs, in the order they are tried."""
    env = os.environ.get(ENV_VAR)
    if env:
        # An explicit choice is the only choice: falling back to another
        # copy would hide a typo in the variable.
        return [("$" + ENV_VAR, env)]
    out = [("build tree", p) for p in _build_tree_candidates() if os.path.exists(p)]
    # The installed library, by SONAME first (the ABI we were written for),
    # then whatever the system's search finds, then make install's default
    # prefix, which ldconfig may not have been told about.
    out.append(("installed (SONAME)", SONAME))
    found = ctypes.util.find_library("pacing")
    if found and found != SONAME:
        out.append(("installed (find_library)", found))
    for prefix in ("/usr/local/lib", "/usr/lib"):
        p = os.path.join(prefix, SONAME)
        if os.path.exists(p):
            out.append(("installed (" + prefix + ")", p))
    return out


def _load():
    tried = []
    for how, what in _candidates():
        try:
            lib = ctypes.CDLL(what)
        except OSError as e:
            tried.append("  %s: %s (%s)" % (how, what, e))
            continue
        return lib, what
    raise ImportError(
        "pacing: cannot load libpacing. Build it with `make` in the "
        "repository, install it (`make install`), or point %s at the "
        "shared library. Tried:\n%s" % (ENV_VAR, "\n".join(tried)))


lib, library_path = _load()

# --------------------------------------------------------------------------
# Struct mirrors (in the header's order)
# --------------------------------------------------------------------------


class Allocator(Structure):
    # Function pointers kept opaque: the binding never installs an allocator.
    _fields_ = [("alloc", c_void_p), ("free", c_void_p), ("opaque", c_void_p)]


class Options(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("flags", c_uint32),
        ("stripes", c_uint32),
        ("capacity", c_uint64),
        ("secret", c_uint8 * 16),
        ("user_ttl_ms", c_int64),
        ("reorder_window_ms", c_int64),
        ("debounce_ms", c_int64),
        ("rage_window_ms", c_int64),
        ("rage_clicks", c_uint32),
        ("reserved0", c_uint32),
        ("dead_click_ms", c_int64),
        ("feature_half_life_ms", c_double),
        ("baseline_half_life_ms", c_double),
        ("allocator", Allocator),
        ("seed", c_uint64),
        ("max_points", c_uint32),
        ("pending_capacity", c_uint32),
        ("hazard_horizon_ms", c_int64),
        ("hazard_bin_ms", c_int64),
        ("log_capacity", c_uint32),
        ("reserved1", c_uint32),
    ]


class Event(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("type", c_uint32),
        ("flags", c_uint32),
        ("user", c_void_p),
        ("user_len", c_size_t),
        ("pseudonym", c_uint64),
        ("time_ms", c_int64),
        ("value", c_double),
        ("target", c_uint64),
        ("channel", c_uint32),
        ("reserved0", c_uint32),
    ]


class Stats(Structure):
    _fields_ = [("size", c_size_t)] + [(n, c_uint64) for n in (
        "users", "capacity", "events_applied", "events_dropped_bot",
        "events_dropped_debounce", "events_dropped_consent", "events_rejected",
        "derived_rage_clicks", "derived_dead_clicks", "users_created",
        "users_evicted_lru", "users_expired", "users_forgotten",
        "bytes_allocated")]


class Scores(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("fatigue", c_double),
        ("cognitive_load", c_double),
        ("attention", c_double),
        ("engagement", c_double),
        ("micro_velocity", c_double),
        ("last_seen_ms", c_int64),
        ("exposures_1m", c_uint32),
        ("exposures_1h", c_uint32),
        ("exposures_1d", c_uint32),
        ("reserved0", c_uint32),
        ("drop_off_risk", c_double),
        ("session_age_ms", c_int64),
    ]


class Contribution(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("input", c_int32),
        ("reserved0", c_uint32),
        ("raw", c_double),
        ("normalized", c_double),
        ("weight", c_double),
        ("contribution", c_double),
    ]


DecayWeightFn = CFUNCTYPE(c_double, POINTER(c_double), c_double)
DecayCheckFn = CFUNCTYPE(c_int, POINTER(c_double))


class DecayModule(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("name", c_char_p),
        ("weight", DecayWeightFn),
        ("check", DecayCheckFn),
        ("default_params", c_double * 4),
    ]


class Param(Structure):
    _fields_ = [("name", c_char_p), ("value", c_double)]


class RewardRule(Structure):
    _fields_ = [("module", c_char_p), ("weight", c_double)]


class PointSpec(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("name", c_char_p),
        ("actions", POINTER(c_char_p)),
        ("n_actions", c_uint32),
        ("flags", c_uint32),
        ("policy", c_char_p),
        ("params", POINTER(Param)),
        ("n_params", c_uint32),
        ("context_dim", c_uint32),
        ("recovery_decay", c_char_p),
        ("recovery_params", POINTER(c_double)),
        ("attribution_ms", c_int64),
        ("default_reward", c_double),
        ("rewards", POINTER(RewardRule)),
        ("n_rewards", c_uint32),
        ("reserved0", c_uint32),
        ("quiet_actions", c_uint64),
        ("safe_action", c_int32),
        ("reserved1", c_uint32),
    ]


class Request(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("point", c_uint32),
        ("flags", c_uint32),
        ("user", c_void_p),
        ("user_len", c_size_t),
        ("pseudonym", c_uint64),
        ("now_ms", c_int64),
        ("ineligible", c_uint64),
        ("context", POINTER(c_double)),
        ("context_len", c_uint32),
        ("channel", c_uint32),
        ("utc_offset_min", c_int32),
        ("reserved0", c_uint32),
    ]


class Veto(Structure):
    _fields_ = [
        ("rule", c_uint32),
        ("action", c_uint32),
        ("verdict", c_uint32),
        ("reason", c_uint32),
        ("retry_after_ms", c_int64),
        ("detail", c_double * 2),
    ]


class TopInputs(Structure):
    _fields_ = [("input", c_int32 * 2), ("share", c_double * 2)]


class Decision(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("id", c_uint64),
        ("point", c_uint32),
        ("action", c_uint32),
        ("reasons", c_uint32),
        ("reserved0", c_uint32),
        ("propensity", c_double),
        ("time_ms", c_int64),
        ("fatigue", c_double),
        ("cognitive_load", c_double),
        ("drop_off_risk", c_double),
        ("attention", c_double),
        ("engagement", c_double),
        ("retry_after_ms", c_int64),
        ("n_vetoes", c_uint32),
        ("reserved1", c_uint32),
        ("vetoes", Veto * 4),
        ("fatigue_top", TopInputs),
        ("load_top", TopInputs),
    ]


class ArmStats(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("decisions", c_uint64),
        ("rewards", c_uint64),
        ("pulls", c_double),
        ("reward_sum", c_double),
        ("mean", c_double),
        ("param_a", c_double),
        ("param_b", c_double),
        ("param_a_name", c_char_p),
        ("param_b_name", c_char_p),
        ("last_update_ms", c_int64),
    ]


class DecisionStats(Structure):
    _fields_ = [("size", c_size_t)] + [(n, c_uint64) for n in (
        "decisions", "rewards_explicit", "rewards_implicit", "rewards_default",
        "expired_unrewarded", "settled_early", "pending", "reward_rejected",
        "safe_decisions")]


class RuleView(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("point", c_uint32),
        ("action", c_uint32),
        ("point_name", c_char_p),
        ("action_name", c_char_p),
        ("channel", c_uint32),
        ("request_flags", c_uint32),
        ("now_ms", c_int64),
        ("utc_offset_min", c_int32),
        ("has_user", c_uint32),
        ("fatigue", c_double),
        ("cognitive_load", c_double),
        ("drop_off_risk", c_double),
        ("attention", c_double),
        ("engagement", c_double),
        ("last_error_ms", c_int64),
        ("form_started_ms", c_int64),
        ("session_start_ms", c_int64),
        ("session_exposures", c_uint32),
        ("n_exposures", c_uint32),
        ("exposure_ms", c_int64 * 8),
        ("exposure_point", c_uint32 * 8),
        ("exposure_channel", c_uint32 * 8),
        ("exposures_1m", c_uint32),
        ("exposures_1h", c_uint32),
        ("exposures_1d", c_uint32),
    ]


class RuleResult(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("verdict", c_uint32),
        ("reason", c_uint32),
        ("retry_after_ms", c_int64),
        ("detail", c_double * 2),
    ]


RuleCheckFn = CFUNCTYPE(c_int, c_void_p, POINTER(c_double), POINTER(RuleView),
                        POINTER(RuleResult))
# buf is a c_void_p (not c_char_p) so the callback gets the address to fill.
RuleExplainFn = CFUNCTYPE(None, c_void_p, POINTER(c_double), POINTER(Veto),
                          c_void_p, c_size_t)


class RuleModule(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("name", c_char_p),
        ("param_names", POINTER(c_char_p)),
        ("param_defaults", POINTER(c_double)),
        ("n_params", c_uint32),
        ("reserved0", c_uint32),
        ("check", RuleCheckFn),
        ("explain", RuleExplainFn),
        ("opaque", c_void_p),
    ]


class RuleSpec(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("module", c_char_p),
        ("point", c_char_p),
        ("params", POINTER(Param)),
        ("n_params", c_uint32),
        ("reserved0", c_uint32),
    ]


class ConfigError(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("line", c_uint32),
        ("column", c_uint32),
        ("file", c_char * 256),
        ("message", c_char * 256),
    ]


WriteFn = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
ReadFn = CFUNCTYPE(c_long, c_void_p, c_void_p, c_size_t)


class LogEntry(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("id", c_uint64),
        ("time_ms", c_int64),
        ("pseudonym", c_uint64),
        ("point", c_uint32),
        ("proposed_action", c_uint32),
        ("final_action", c_uint32),
        ("reasons", c_uint32),
        ("propensity", c_double),
        ("outcome", c_uint32),
        ("settled_early", c_uint32),
        ("reward", c_double),
        ("reward_time_ms", c_int64),
        ("policy_version", c_uint64),
    ]


LogFn = CFUNCTYPE(c_int, c_void_p, POINTER(LogEntry))


class RewardInput(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("event", POINTER(Event)),
        ("since_decision_ms", c_int64),
        ("point", c_uint32),
        ("action", c_uint32),
        ("dwell_baseline_ms", c_double),
    ]


RewardOnEventFn = CFUNCTYPE(c_int, c_void_p, POINTER(RewardInput),
                            POINTER(c_double), POINTER(c_int))


class RewardModule(Structure):
    _fields_ = [
        ("size", c_size_t),
        ("name", c_char_p),
        ("on_event", RewardOnEventFn),
        ("opaque", c_void_p),
    ]


#: Every mirror of a struct that starts with `size`, by C name.
SIZED_STRUCTS = {
    "pacing_options": Options, "pacing_event": Event, "pacing_stats": Stats,
    "pacing_scores": Scores, "pacing_contribution": Contribution,
    "pacing_decay_module": DecayModule, "pacing_point_spec": PointSpec,
    "pacing_request": Request, "pacing_decision": Decision,
    "pacing_arm_stats": ArmStats, "pacing_decision_stats": DecisionStats,
    "pacing_rule_view": RuleView, "pacing_rule_result": RuleResult,
    "pacing_rule_module": RuleModule, "pacing_rule_spec": RuleSpec,
    "pacing_config_error": ConfigError, "pacing_log_entry": LogEntry,
    "pacing_reward_input": RewardInput, "pacing_reward_module": RewardModule,
}


def new(struct_type):
    """A zeroed struct with its size field set (the *_INIT macros)."""
    s = struct_type()
    s.size = ctypes.sizeof(struct_type)
    return s


# --------------------------------------------------------------------------
# Function prototypes: argtypes and restype for every function used
# --------------------------------------------------------------------------

_ctx_p = c_void_p  # pacing_ctx * (opaque)
_PROTOTYPES = {
    "pacing_version_number": (c_uint, []),
    "pacing_version_string": (c_char_p, []),
    "pacing_strerror": (c_char_p, [c_int]),
    "pacing_options_init": (None, [POINTER(Options)]),
    "pacing_ctx_new": (c_int, [POINTER(Options), POINTER(_ctx_p)]),
    "pacing_ctx_free": (None, [_ctx_p]),
    "pacing_errmsg": (c_char_p, [_ctx_p]),
    "pacing_event_type_name": (c_char_p, [c_int]),
    "pacing_push": (c_int, [_ctx_p, POINTER(Event)]),
    "pacing_push_batch": (c_int, [_ctx_p, POINTER(Event), c_size_t,
                                  POINTER(c_size_t)]),
    "pacing_pseudonym": (c_int, [_ctx_p, c_void_p, c_size_t, POINTER(c_uint64)]),
    "pacing_forget": (c_int, [_ctx_p, c_void_p, c_size_t]),
    "pacing_forget_pseudonym": (c_int, [_ctx_p, c_uint64]),
    "pacing_expire": (c_int, [_ctx_p, c_int64, POINTER(c_uint64)]),
    "pacing_stats_get": (c_int, [_ctx_p, POINTER(Stats)]),
    "pacing_scores_get": (c_int, [_ctx_p, c_void_p, c_size_t, c_int64,
                                  POINTER(Scores)]),
    "pacing_scores_get_pseudonym": (c_int, [_ctx_p, c_uint64, c_int64,
                                            POINTER(Scores)]),
    "pacing_input_name": (c_char_p, [c_int]),
    "pacing_contributions": (c_int, [_ctx_p, c_void_p, c_size_t, c_int64, c_int,
                                     POINTER(Contribution), c_size_t,
                                     POINTER(c_size_t)]),
    "pacing_contributions_pseudonym": (c_int, [_ctx_p, c_uint64, c_int64, c_int,
                                               POINTER(Contribution), c_size_t,
                                               POINTER(c_size_t)]),
    "pacing_weight_set": (c_int, [_ctx_p, c_int, c_int, c_double]),
    "pacing_weight_get": (c_int, [_ctx_p, c_int, c_int, POINTER(c_double)]),
    "pacing_decay_eval": (c_int, [_ctx_p, c_char_p, POINTER(c_double), c_double,
                                  POINTER(c_double)]),
    "pacing_exposure_decay_set": (c_int, [_ctx_p, c_char_p, POINTER(c_double)]),
    "pacing_point_add": (c_int, [_ctx_p, POINTER(PointSpec), POINTER(c_uint32)]),
    "pacing_point_find": (c_int, [_ctx_p, c_char_p, POINTER(c_uint32)]),
    "pacing_action_name": (c_char_p, [_ctx_p, c_uint32, c_uint32]),
    "pacing_decide": (c_int, [_ctx_p, POINTER(Request), POINTER(Decision)]),
    "pacing_reward": (c_int, [_ctx_p, c_uint64, c_double, c_int64]),
    "pacing_settle": (c_int, [_ctx_p, c_int64, POINTER(c_uint64)]),
    "pacing_arm_stats_get": (c_int, [_ctx_p, c_uint32, c_uint32,
                                     POINTER(ArmStats)]),
    "pacing_decision_stats_get": (c_int, [_ctx_p, POINTER(DecisionStats)]),
    "pacing_hazard_baseline": (c_int, [_ctx_p, c_int64, POINTER(c_double),
                                       POINTER(c_double)]),
    "pacing_rule_register": (c_int, [_ctx_p, POINTER(RuleModule)]),
    "pacing_rule_add": (c_int, [_ctx_p, POINTER(RuleSpec), POINTER(c_uint32)]),
    "pacing_explain": (c_int, [_ctx_p, POINTER(Decision), c_void_p, c_size_t]),
    "pacing_ctx_new_from_yaml": (c_int, [c_char_p, POINTER(Options),
                                         POINTER(_ctx_p), POINTER(ConfigError)]),
    "pacing_ctx_new_from_yaml_string": (c_int, [c_char_p, c_size_t,
                                                POINTER(Options), POINTER(_ctx_p),
                                                POINTER(ConfigError)]),
    "pacing_snapshot_save": (c_int, [_ctx_p, c_char_p]),
    "pacing_snapshot_write": (c_int, [_ctx_p, WriteFn, c_void_p]),
    "pacing_snapshot_load": (c_int, [_ctx_p, c_char_p]),
    "pacing_snapshot_read": (c_int, [_ctx_p, ReadFn, c_void_p]),
    "pacing_log_read": (c_int, [_ctx_p, LogFn, c_void_p, POINTER(c_uint64)]),
    "pacing_reward_register": (c_int, [_ctx_p, POINTER(RewardModule)]),
}


def _declare():
    missing = []
    for name, (restype, argtypes) in _PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    if missing:
        raise ImportError("pacing: %s lacks %s (an older or foreign library?)"
                          % (library_path, ", ".join(missing)))


def _check_version():
    number = lib.pacing_version_number()
    major, minor = number // 10000, number // 100 % 100
    text = (lib.pacing_version_string() or b"?").decode("ascii", "replace")
    if major != EXPECTED_MAJOR or minor < EXPECTED_MINOR:
        raise ImportError(
            "pacing: %s is libpacing %s, but this binding needs %d.%d or a "
            "later %d.x (set %s to a matching library)"
            % (library_path, text, EXPECTED_MAJOR, EXPECTED_MINOR,
               EXPECTED_MAJOR, ENV_VAR))
    return number, text


# The version check comes first: a library of another major version may not
# even have the same functions.
lib.pacing_version_number.restype = c_uint
lib.pacing_version_number.argtypes = []
lib.pacing_version_string.restype = c_char_p
lib.pacing_version_string.argtypes = []
version_number, version_string = _check_version()
_declare()
