"""Plain Python values passed to and returned by Context.

Times are integer milliseconds on the caller's clock; a time the library
reports as unknown (-1) is None here.
"""

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple, Union

from .enums import (Channel, EventFlag, EventType, Input, Outcome, Reason,
                    Verdict)


class Pseudonym(int):
    """A user's 64-bit pseudonym (never 0). Pass one wherever a user is
    expected to name the user by pseudonym rather than by id bytes."""

    def __repr__(self):
        return "Pseudonym(0x%016x)" % int(self)


#: A user: str (encoded as UTF-8), bytes-like, or a Pseudonym.
User = Union[str, bytes, bytearray, memoryview, Pseudonym]


@dataclass
class Event:
    """One interaction event (pacing_event). `type` may be an EventType, its
    name ("dismiss") or an int; `user` a str, bytes or Pseudonym. Events
    handed to reward callbacks carry the user's Pseudonym."""
    type: Union[EventType, int, str]
    user: Optional[User] = None
    time_ms: int = 0
    value: float = 0.0
    target: int = 0
    channel: Union[Channel, int] = 0
    flags: Union[EventFlag, int] = 0


@dataclass
class Options:
    """Context options (pacing_options). None keeps the library's default
    (docs/config-reference.md); Context(...) keywords override these."""
    capacity: Optional[int] = None
    seed: Optional[int] = None
    secret: Optional[bytes] = None       # 16 bytes: pseudonym key
    single_thread: bool = False
    require_consent: bool = False
    random_seed: bool = False
    stripes: Optional[int] = None
    user_ttl_ms: Optional[int] = None    # negative: never expire
    reorder_window_ms: Optional[int] = None
    debounce_ms: Optional[int] = None    # negative: off
    rage_window_ms: Optional[int] = None
    rage_clicks: Optional[int] = None
    dead_click_ms: Optional[int] = None
    feature_half_life_ms: Optional[float] = None
    baseline_half_life_ms: Optional[float] = None
    max_points: Optional[int] = None
    pending_capacity: Optional[int] = None
    hazard_horizon_ms: Optional[int] = None
    hazard_bin_ms: Optional[int] = None
    log_capacity: Optional[int] = None


@dataclass(frozen=True)
class Scores:
    """A user's scores at one time (pacing_scores); docs/scores.md."""
    fatigue: float
    cognitive_load: float
    attention: float
    engagement: float
    micro_velocity: float
    drop_off_risk: float
    last_seen_ms: int
    session_age_ms: Optional[int]
    exposures_1m: int
    exposures_1h: int
    exposures_1d: int


@dataclass(frozen=True)
class Contribution:
    """One input's part in a score (pacing_contribution)."""
    input: Union[Input, int]
    name: str
    raw: float
    normalized: float
    weight: float
    contribution: float


@dataclass(frozen=True)
class Point:
    """A decision point: its id, name and action names."""
    id: int
    name: str
    actions: Tuple[str, ...]

    def action_id(self, action):
        """The index of an action given by name or index."""
        if isinstance(action, str):
            try:
                return self.actions.index(action)
            except ValueError:
                raise KeyError("point %r has no action %r" % (self.name, action))
        return int(action)


@dataclass(frozen=True)
class TopInput:
    """One of the two inputs that contribute most to a score."""
    input: Union[Input, int]
    name: str
    share: float


@dataclass(frozen=True)
class VetoRecord:
    """A safety verdict against one action, as recorded in a decision."""
    rule: int
    action: Optional[str]
    action_id: int
    verdict: Union[Verdict, int]
    reason: int
    retry_after_ms: Optional[int]
    details: Tuple[float, float]


@dataclass(frozen=True)
class DecisionScores:
    """The scores a decision used, with each score's top two inputs."""
    fatigue: float
    cognitive_load: float
    drop_off_risk: float
    attention: float
    engagement: float
    fatigue_top: Tuple[TopInput, ...]
    load_top: Tuple[TopInput, ...]


@dataclass(frozen=True)
class Decision:
    """The answer of Context.decide (pacing_decision).

    id is 0 for a safe decision (Reason.SAFE: nothing to reward).
    retry_after_ms is set for safe decisions when some delay names a time.
    """
    id: int
    point: Optional[str]
    point_id: int
    action: Optional[str]
    action_id: int
    propensity: float
    reasons: Reason
    time_ms: int
    scores: DecisionScores
    retry_after_ms: Optional[int]
    vetoes: Tuple[VetoRecord, ...]
    _raw: bytes = field(default=b"", repr=False, compare=False)

    @property
    def safe(self):
        """True when safety left nothing to show and the safe action came back."""
        return bool(self.reasons & Reason.SAFE)

    @property
    def vetoed(self):
        """True when safety vetoed or delayed some actions."""
        return bool(self.reasons & Reason.VETOED)


@dataclass(frozen=True)
class Exposure:
    """One of a user's latest exposures, as a rule sees it."""
    time_ms: int
    point_id: Optional[int]      # None for a pushed EXPOSURE event
    channel: int


@dataclass(frozen=True)
class RuleView:
    """What a Python safety rule sees (pacing_rule_view)."""
    point: str
    point_id: int
    action: str
    action_id: int
    channel: int
    request_flags: int
    now_ms: int
    utc_offset_min: int
    has_user: bool
    fatigue: float
    cognitive_load: float
    drop_off_risk: float
    attention: float
    engagement: float
    last_error_ms: Optional[int]
    form_started_ms: Optional[int]
    session_start_ms: Optional[int]
    session_exposures: int
    exposures: Tuple[Exposure, ...]     # oldest first
    exposures_1m: int
    exposures_1h: int
    exposures_1d: int


@dataclass(frozen=True)
class Veto:
    """Returned by a Python rule: the action must not be shown now.
    `message`, if given, is the phrase explanations use for this veto."""
    reason: int = 1
    details: Tuple[float, ...] = ()
    message: Optional[str] = None


@dataclass(frozen=True)
class Delay:
    """Returned by a Python rule: not before retry_after_ms (absolute, the
    caller's clock). `message` as for Veto."""
    retry_after_ms: int
    reason: int = 1
    details: Tuple[float, ...] = ()
    message: Optional[str] = None


@dataclass(frozen=True)
class ArmStats:
    """What a dashboard reads about one action (pacing_arm_stats)."""
    decisions: int
    rewards: int
    pulls: float
    reward_sum: float
    mean: float
    params: Dict[str, float]        # e.g. {"alpha": ..., "beta": ...}
    last_update_ms: Optional[int]


@dataclass(frozen=True)
class Stats:
    """Context counters (pacing_stats)."""
    users: int
    capacity: int
    events_applied: int
    events_dropped_bot: int
    events_dropped_debounce: int
    events_dropped_consent: int
    events_rejected: int
    derived_rage_clicks: int
    derived_dead_clicks: int
    users_created: int
    users_evicted_lru: int
    users_expired: int
    users_forgotten: int
    bytes_allocated: int


@dataclass(frozen=True)
class DecisionStats:
    """Decision-layer counters (pacing_decision_stats)."""
    decisions: int
    rewards_explicit: int
    rewards_implicit: int
    rewards_default: int
    expired_unrewarded: int
    settled_early: int
    pending: int
    reward_rejected: int
    safe_decisions: int


@dataclass(frozen=True)
class LogEntry:
    """One settled (or safe) decision from the decision log."""
    id: int
    time_ms: int
    pseudonym: Optional[Pseudonym]     # None: decided without user state
    point: Optional[str]
    point_id: int
    proposed_action: Optional[int]     # None: safety left nothing to pick
    final_action: int
    reasons: Reason
    propensity: float
    outcome: Union[Outcome, int]
    settled_early: bool
    reward: float
    reward_time_ms: Optional[int]
    policy_version: int
