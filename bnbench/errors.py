"""User-facing errors: one line that names the offending input, printed by the CLI without a traceback."""


class BnbenchError(Exception):
    """A bad input or an unmet precondition; ``str(err)`` is a complete one-line message."""


class ArchError(BnbenchError, ValueError):
    """A malformed architecture string or an unknown operation."""


class DataError(BnbenchError, FileNotFoundError):
    """A missing, incomplete or corrupt dataset directory."""


class BenchmarkError(BnbenchError, ValueError):
    """A benchmark / ground-truth file of the wrong kind, truncated, or not matching the scores."""
