"""pacing: Python binding of libpacing, the attention-pacing engine.

Built on ctypes alone (no compiled extension). The shared library is found
through, in order: the PACING_LIBRARY environment variable (a path), the
build tree of the source checkout this package sits in (build/libpacing.so.1),
then the installed libpacing.so.1 (the dynamic loader's search,
ctypes.util.find_library("pacing"), /usr/local/lib, /usr/lib). Import fails
with ImportError if none loads or its major version is not the binding's.

    import pacing
    from pacing import EventType

    with pacing.Context(seed=1) as ctx:
        cta = ctx.add_point("checkout_cta", ["show_now", "delay", "skip"],
                            quiet_actions=["delay", "skip"], safe_action="delay")
        ctx.add_rule("min_gap", cta, gap_ms=20000)
        ctx.push(type=EventType.SESSION_START, user="u1", time_ms=0)
        d = ctx.decide(cta, "u1", now_ms=1000)
        print(d.action, ctx.explain(d))

See docs/bindings.md (section Python) for the whole surface.
"""

from . import _native
from .context import Context
from .enums import (Channel, EventFlag, EventType, Input, OptionFlag, Outcome,
                    PointFlag, Reason, RequestFlag, ScoreKind, Status, Verdict)
from .errors import (AlreadyExists, CallbackError, ConfigError, CorruptError,
                     FullError, InvalidArgument, NotFiniteError, NotFound,
                     NullPointerError, OutOfMemory, OutOfRangeError,
                     PacingError, PacingIOError, SizeMismatchError,
                     TimeRangeError, TooOldError, UnknownEventType,
                     VersionError, VetoedError)
from .types import (ArmStats, Contribution, Decision, DecisionScores,
                    DecisionStats, Delay, Event, Exposure, LogEntry, Options,
                    Point, Pseudonym, RuleView, Scores, Stats, TopInput, Veto,
                    VetoRecord)

__version__ = "1.0.0"

#: Path or name of the shared library that was loaded.
library_path = _native.library_path
#: The loaded library's version, e.g. "1.0.0", and as MAJOR*10000+MINOR*100+PATCH.
library_version = _native.version_string
library_version_number = _native.version_number


def strerror(status):
    """The library's static English description of a status code."""
    return (_native.lib.pacing_strerror(int(status)) or b"").decode()


def event_type_name(event_type):
    """The stable snake_case name of an event type, or None."""
    n = _native.lib.pacing_event_type_name(int(event_type))
    return n.decode() if n else None


def input_name(input):
    """The stable snake_case name of a score input, or None."""
    n = _native.lib.pacing_input_name(int(input))
    return n.decode() if n else None


__all__ = [
    "Context", "Options", "Event", "Pseudonym", "Point", "Scores",
    "Contribution", "Decision", "DecisionScores", "TopInput", "VetoRecord",
    "RuleView", "Exposure", "Veto", "Delay", "ArmStats", "Stats",
    "DecisionStats", "LogEntry",
    "Status", "EventType", "Channel", "EventFlag", "RequestFlag", "OptionFlag",
    "PointFlag", "ScoreKind", "Input", "Reason", "Verdict", "Outcome",
    "PacingError", "InvalidArgument", "NullPointerError", "SizeMismatchError",
    "UnknownEventType", "NotFiniteError", "OutOfRangeError", "TooOldError",
    "OutOfMemory", "FullError", "NotFound", "AlreadyExists", "ConfigError",
    "CorruptError", "PacingIOError", "TimeRangeError", "VetoedError",
    "VersionError", "CallbackError",
    "strerror", "event_type_name", "input_name", "library_path",
    "library_version", "library_version_number", "__version__",
]
