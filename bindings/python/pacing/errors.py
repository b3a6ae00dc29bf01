"""Exceptions: one class per status code, all subclasses of PacingError.

Every exception raised for a failed library call carries the status, the
library's static description of it (pacing_strerror) and the library's
message about this failure (pacing_errmsg), e.g.

    pacing.errors.UnknownEventType: unknown event type: push: unknown event type 99
"""

from .enums import Status


class PacingError(Exception):
    """A libpacing call failed.

    Attributes: status (Status, or an int for a code this binding does not
    know), message (the library's message for this failure, may be ""),
    description (pacing_strerror's text for the status).
    """

    def __init__(self, status, message="", description=""):
        try:
            status = Status(status)
        except ValueError:
            status = int(status)
        self.status = status
        self.message = message
        self.description = description
        Exception.__init__(self, status, message)

    def __str__(self):
        if self.message and self.description:
            return "%s: %s" % (self.description, self.message)
        return self.message or self.description or "status %d" % self.status


class InvalidArgument(PacingError, ValueError):
    """PACING_E_INVAL: an argument is invalid."""


class NullPointerError(PacingError, ValueError):
    """PACING_E_NULL: a required pointer was NULL."""


class SizeMismatchError(PacingError):
    """PACING_E_SIZE: a struct's size field is not the library's sizeof (this
    binding's struct mirrors do not match the loaded library)."""


class UnknownEventType(PacingError, ValueError):
    """PACING_E_TYPE: unknown event type."""


class NotFiniteError(PacingError, ValueError):
    """PACING_E_NAN: a number is NaN or infinite."""


class OutOfRangeError(PacingError, ValueError):
    """PACING_E_RANGE: a value is out of range for its field."""


class TooOldError(PacingError, ValueError):
    """PACING_E_TOO_OLD: older than the reorder window."""


class OutOfMemory(PacingError, MemoryError):
    """PACING_E_NOMEM: an allocation failed."""


class FullError(PacingError):
    """PACING_E_FULL: a bounded table is full."""


class NotFound(PacingError, LookupError):
    """PACING_E_NOTFOUND: no such user, module, point or decision."""

    __str__ = PacingError.__str__  # not KeyError-style quoting


class AlreadyExists(PacingError):
    """PACING_E_EXISTS: the name is already registered."""


class ConfigError(PacingError):
    """PACING_E_CONFIG: a configuration was rejected.

    For YAML, file, line and column (1-based; 0 when not tied to a place)
    say where; message says what.
    """

    def __init__(self, status, message="", description="", file=None,
                 line=0, column=0):
        PacingError.__init__(self, status, message, description)
        self.file = file
        self.line = line
        self.column = column

    def __str__(self):
        where = ""
        if self.file:
            where = self.file
            if self.line:
                where += ":%d" % self.line
                if self.column:
                    where += ":%d" % self.column
            where += ": "
        return where + (self.message or self.description)


class CorruptError(PacingError):
    """PACING_E_CORRUPT: damaged input data (e.g. a snapshot)."""


class PacingIOError(PacingError):
    """PACING_E_IO: an I/O operation failed."""


class TimeRangeError(PacingError, ValueError):
    """PACING_E_TIME: a time is negative or above 2^53 ms."""


class VetoedError(PacingError):
    """PACING_E_VETOED: safety vetoed every eligible action and the point has
    no safe action."""


class VersionError(PacingError):
    """PACING_E_VERSION: data of an unsupported format version."""


class CallbackError(Exception):
    """A Python rule or reward callback raised (see Context's
    `callback_errors` argument). `errors` lists the exceptions, the first is
    also the `__cause__`; `result` is what the call returned in the library
    (e.g. the Decision), since the library call itself completed."""

    def __init__(self, errors, result=None):
        self.errors = list(errors)
        self.result = result
        first = self.errors[0] if self.errors else None
        Exception.__init__(self, "%d exception(s) in Python callbacks, first: %r"
                           % (len(self.errors), first))


_BY_STATUS = {
    Status.E_INVAL: InvalidArgument,
    Status.E_NULL: NullPointerError,
    Status.E_SIZE: SizeMismatchError,
    Status.E_TYPE: UnknownEventType,
    Status.E_NAN: NotFiniteError,
    Status.E_RANGE: OutOfRangeError,
    Status.E_TOO_OLD: TooOldError,
    Status.E_NOMEM: OutOfMemory,
    Status.E_FULL: FullError,
    Status.E_NOTFOUND: NotFound,
    Status.E_EXISTS: AlreadyExists,
    Status.E_CONFIG: ConfigError,
    Status.E_CORRUPT: CorruptError,
    Status.E_IO: PacingIOError,
    Status.E_TIME: TimeRangeError,
    Status.E_VETOED: VetoedError,
    Status.E_VERSION: VersionError,
}


def error_class(status):
    """The exception class for a status code (PacingError if unknown)."""
    try:
        return _BY_STATUS.get(Status(status), PacingError)
    except ValueError:
        return PacingError
