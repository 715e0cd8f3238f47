"""The project's own exceptions; every layer raises these and the edges translate them."""


class MemosError(Exception):
    """Base class of every error memos raises on purpose."""

    code = "memos_error"


class NotFound(MemosError):
    """A cube, item, key, job or cache entry that does not exist (or is not visible)."""

    code = "not_found"


class InvalidInput(MemosError):
    """The caller asked for something malformed or out of bounds."""

    code = "invalid_input"


class TooLarge(InvalidInput):
    """The input is over a size limit (an upload, an archive member, a line, a row count)."""

    code = "too_large"


class Conflict(MemosError):
    """The request contradicts the stored state (a duplicate name, a stale version)."""

    code = "conflict"


class PermissionDenied(MemosError):
    """The caller may see the resource but may not do this to it."""

    code = "permission_denied"


class IllegalTransition(Conflict):
    """A lifecycle change the transition table does not allow."""

    code = "illegal_transition"


class CorruptBlob(MemosError):
    """A stored file whose checksum or header does not match what SQL recorded."""

    code = "corrupt_blob"


class IncompatibleModel(MemosError):
    """A KV cache or adapter made for another model fingerprint."""

    code = "incompatible_model"


class ModelNotAvailable(MemosError):
    """The configured model or embedder cannot be found on this machine."""

    code = "model_not_available"


class UnsupportedFormat(MemosError):
    """An archive or file written by a newer, unknown format version."""

    code = "unsupported_format"


class StorageFull(MemosError):
    """A write that could not be stored: the disk is full or the filesystem is read-only."""

    code = "insufficient_storage"


class StorageBusy(StorageFull):
    """A write that could not be stored right now but may succeed when retried."""

    code = "storage_busy"


class Cancelled(MemosError):
    """Work that was cancelled before it finished."""

    code = "cancelled"


class TooManyRequests(MemosError):
    """The caller is over one of its own limits (queued work, jobs); it may retry later."""

    code = "too_many_requests"

    def __init__(self, message: str = "", retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Overloaded(TooManyRequests):
    """The whole service is at capacity, whoever asks; retry later."""

    code = "overloaded"


class QuotaExceeded(MemosError):
    """Storing this would take the caller past a quota (memories per cube, bytes per user)."""

    code = "quota_exceeded"


def error_for_code(code: str) -> type[MemosError] | None:
    """The exception class whose ``code`` this is, searched through every subclass."""
    pending: list[type[MemosError]] = [MemosError]
    while pending:
        cls = pending.pop()
        if cls.code == code:
            return cls
        pending.extend(cls.__subclasses__())
    return None


class UnsafeSharing(MemosError):
    """Several processes would share state in a way that can corrupt it (SQLite over a network
    filesystem)."""

    code = "unsafe_sharing"
