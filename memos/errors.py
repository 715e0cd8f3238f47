"""The project's exceptions for users of the kernel and SDK, and the one table of how each
travels over HTTP: the API answers with its status, the SDK raises it again from its code."""

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
    StorageBusy,
    StorageFull,
    TooLarge,
    TooManyRequests,
    UnsupportedFormat,
    error_for_code,
)

# The HTTP status of each error (a subclass not listed has its closest listed base's).
HTTP_STATUS: dict[type[MemosError], int] = {
    InvalidInput: 400,
    TooLarge: 413,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,  # also IllegalTransition
    Cancelled: 409,
    IncompatibleModel: 409,
    UnsupportedFormat: 422,
    QuotaExceeded: 429,
    Overloaded: 503,
    TooManyRequests: 429,
    CorruptBlob: 500,
    ModelNotAvailable: 503,
    StorageFull: 507,  # a write the disk could not take; nothing of it was stored
    StorageBusy: 503,
}

# Codes the HTTP layer answers with by itself (bad JSON, a wrong key, a wrong method), and the
# exception the SDK raises for each.
HTTP_LAYER_ERRORS: dict[str, type[MemosError]] = {
    "bad_request": InvalidInput, "validation_error": InvalidInput,
    "payload_too_large": InvalidInput, "method_not_allowed": InvalidInput,
    "unauthorized": PermissionDenied, "forbidden": PermissionDenied, "conflict": Conflict,
}


def error_class(code: str | None) -> type[MemosError]:
    """The project's exception for an error code of the API (MemosError when unknown)."""
    return HTTP_LAYER_ERRORS.get(code) or error_for_code(code or "") or MemosError


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
    "StorageBusy",
    "StorageFull",
    "TooLarge",
    "TooManyRequests",
    "UnsupportedFormat",
    "error_class",
]
