"""The project's exceptions, re-exported for users of the kernel and SDK."""

from storage.errors import (
    Cancelled,
    Conflict,
    CorruptBlob,
    IllegalTransition,
    IncompatibleModel,
    InvalidInput,
    MemosError,
    ModelNotAvailable,
    NotFound,
    Overloaded,
    PermissionDenied,
    QuotaExceeded,
    TooManyRequests,
    UnsupportedFormat,
)

__all__ = [
    "Cancelled",
    "Conflict",
    "CorruptBlob",
    "IllegalTransition",
    "IncompatibleModel",
    "InvalidInput",
    "MemosError",
    "ModelNotAvailable",
    "NotFound",
    "Overloaded",
    "PermissionDenied",
    "QuotaExceeded",
    "TooManyRequests",
    "UnsupportedFormat",
]
