"""Errors that carry their HTTP status (as pygeoapi does), so the core can refuse input without
knowing about Flask and the views turn them into responses in one place."""

from __future__ import annotations


class ApiError(Exception):
    status = 400

    def __init__(self, errors: dict[str, str], *, status: int | None = None) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        if status is not None:
            self.status = status


class NotFound(ApiError):
    status = 404
