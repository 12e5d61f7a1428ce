"""The domain's exception hierarchy. Each error has a machine-readable `code` and an HTTP status that
`api/errors.py` maps once; the domain itself never raises HTTP exceptions."""

from __future__ import annotations

from typing import Any


class InkstreamError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


# --- auth (401 / 403 / 409 / 429) ---
class AuthError(InkstreamError):
    status = 401


class TokenMissing(AuthError):
    code = "token_missing"


class TokenExpired(AuthError):
    code = "token_expired"


class TokenInvalid(AuthError):
    code = "token_invalid"


class TicketInvalid(AuthError):
    code = "ticket_invalid"


class InvalidCredentials(AuthError):
    code = "invalid_credentials"


class RefreshTokenReused(AuthError):
    code = "refresh_token_reused"


class SessionRevoked(AuthError):
    code = "session_revoked"


class Forbidden(InkstreamError):
    code = "forbidden"
    status = 403


class OriginRejected(Forbidden):
    code = "origin_rejected"


class AccountDisabled(Forbidden):
    code = "account_disabled"


class RegistrationClosed(Forbidden):
    code = "registration_closed"


class InviteRequired(Forbidden):
    code = "invite_required"


class InviteInvalid(Forbidden):
    code = "invite_invalid"


class WrongPassword(Forbidden):
    code = "wrong_password"


class NotFound(InkstreamError):
    """A named thing that does not exist (`user_not_found`, `session_not_found`, …); `code` set per case."""

    status = 404

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Conflict(InkstreamError):
    """A change the current state forbids (`last_admin`, `cannot_change_self`, …); `code` set per case."""

    status = 409

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class UsernameTaken(InkstreamError):
    code = "username_taken"
    status = 409


class RateLimited(InkstreamError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class QuotaExceeded(InkstreamError):
    code = "quota_exceeded"
    status = 429

    def __init__(self, message: str, retry_after: int, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after


# --- tasks ---
class TaskNotFound(InkstreamError):
    code = "task_not_found"
    status = 404


class ImageNotFound(InkstreamError):
    code = "image_not_found"
    status = 404


class ImageWriteFailed(InkstreamError):
    """A generated image could not be stored (disk full, directory gone or read-only): the page can be retried."""

    code = "image_write_failed"
    status = 503


class TaskNotReady(InkstreamError):
    code = "task_not_ready"
    status = 409


class TaskConflict(InkstreamError):
    code = "task_conflict"
    status = 409


class TooManyTasks(InkstreamError):
    code = "too_many_tasks"
    status = 429

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.retry_after = 5


class InvalidInput(InkstreamError):
    """Input that parsed but breaks a rule (too long, too many, not an image…); `code` set per case."""

    status = 422

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code


class PayloadTooLarge(InkstreamError):
    code = "payload_too_large"
    status = 413

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code


class GeneratorConfigUnusable(InkstreamError):
    code = "providers_config_unusable"
    status = 409


# --- workers (never reach HTTP: a page job that meets one stops quietly) ---
class LeaseBusy(InkstreamError):
    """Another worker holds this page's lease and runs it."""

    code = "lease_busy"
    status = 409


class LeaseLost(InkstreamError):
    """This worker no longer holds the page it was running: it must write nothing more for it."""

    code = "lease_lost"
    status = 409
