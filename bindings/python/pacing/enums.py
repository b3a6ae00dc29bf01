"""The header's enums and flag sets as Python enums (values never change)."""

import enum


class Status(enum.IntEnum):
    """pacing_status: 0 success, 1 an event deliberately dropped, < 0 errors."""
    OK = 0
    DROPPED = 1
    E_INVAL = -1
    E_NULL = -2
    E_SIZE = -3
    E_TYPE = -4
    E_NAN = -5
    E_RANGE = -6
    E_TOO_OLD = -7
    E_NOMEM = -8
    E_FULL = -9
    E_NOTFOUND = -10
    E_EXISTS = -11
    E_CONFIG = -12
    E_CORRUPT = -13
    E_IO = -14
    E_TIME = -15
    E_VETOED = -16
    E_VERSION = -17


class EventType(enum.IntEnum):
    """pacing_event_type; see the header for the meaning of each value."""
    SESSION_START = 1
    SESSION_END = 2
    DWELL = 3
    SCROLL_DEPTH = 4
    HOVER = 5
    READING_SPEED = 6
    INPUT_LATENCY = 7
    CLICK = 8
    RAGE_CLICK = 9
    DEAD_CLICK = 10
    CURSOR_BACKTRACK = 11
    UNDO = 12
    ERROR = 13
    FORM_START = 14
    FORM_SUBMIT = 15
    FORM_ABANDON = 16
    TAB_HIDDEN = 17
    TAB_VISIBLE = 18
    MEDIA_PAUSE = 19
    MEDIA_RESUME = 20
    EXPOSURE = 21
    DISMISS = 22
    MICRO_CONVERSION = 23
    CONVERSION = 24
    CONSENT = 25
    OPT_OUT = 26
    CUSTOM = 27


class Channel(enum.IntEnum):
    """pacing_channel. Values 64..255 are the caller's own: pass plain ints."""
    UNSPECIFIED = 0
    WEB = 1
    APP = 2
    EMAIL = 3
    PUSH = 4
    KIOSK = 5
    GAME = 6
    CUSTOM_FIRST = 64
    MAX = 255


class EventFlag(enum.IntFlag):
    """PACING_EVF_*."""
    NONE = 0
    BOT = 0x1
    CONSENT = 0x2
    NO_CONSENT = 0x4
    NO_RESPONSE = 0x8
    PSEUDONYM = 0x10


class RequestFlag(enum.IntFlag):
    """PACING_REQ_*."""
    NONE = 0
    CONSENT = 0x2
    NO_CONSENT = 0x4
    PSEUDONYM = 0x10
    OPTED_OUT = 0x20


class OptionFlag(enum.IntFlag):
    """PACING_OPT_*."""
    NONE = 0
    SINGLE_THREAD = 0x1
    SECRET = 0x2
    REQUIRE_CONSENT = 0x4
    RANDOM_SEED = 0x8


class PointFlag(enum.IntFlag):
    """PACING_PT_*."""
    NONE = 0
    SCORES_CONTEXT = 0x1
    DEFAULT_REWARD = 0x2


class ScoreKind(enum.IntEnum):
    """Scores that decompose into inputs (pacing_score_kind)."""
    FATIGUE = 0
    COGNITIVE_LOAD = 1
    ATTENTION = 2
    ENGAGEMENT = 3


class Input(enum.IntEnum):
    """Score inputs (pacing_input)."""
    SLOWER_REACTIONS = 0
    DISMISSALS = 1
    RECENT_EXPOSURES = 2
    UNDO_RATE = 3
    ERROR_RATE = 4
    INCOMPLETE_FORMS = 5
    READING_SLOWDOWN = 6
    PAUSES = 7
    FOCUS_SWITCHES = 8
    MISCLICKS = 9
    SCROLL_DEPTH = 10
    DWELL_RATIO = 11
    VISIBILITY = 12
    CLICK_RATE = 13
    HOVER = 14
    MICRO_CONVERSIONS = 15
    DWELL = 16


class Reason(enum.IntFlag):
    """Decision reason flags (PACING_DR_*)."""
    NONE = 0
    EXPLORED = 0x1
    EXPLOITED = 0x2
    INELIGIBLE = 0x4
    RECOVERING = 0x8
    NO_USER = 0x10
    PENDING_FULL = 0x20
    VETOED = 0x40
    SAFE = 0x80
    MORE_VETOES = 0x100


class Verdict(enum.IntEnum):
    """A safety rule's verdict (PACING_ALLOW, PACING_VETO, PACING_DELAY)."""
    ALLOW = 0
    VETO = 1
    DELAY = 2


class Outcome(enum.IntEnum):
    """How a logged decision ended (PACING_OUT_*)."""
    REWARDED = 1
    IMPLICIT = 2
    DEFAULT = 3
    EXPIRED = 4
    SAFE = 5


def _coerce(enum_type, value):
    """value as enum_type if it is a known member, else the int unchanged
    (unknown values pass through so the library can say what is wrong)."""
    try:
        return enum_type(value)
    except ValueError:
        return int(value)
