"""The audit log: every event the service records, by date range and search."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from .errors import ValidationError
from .models import LogEntry, Page, User
from .store import like_pattern, searchable

#: The portal's date presets.
PRESETS = ("today", "yesterday", "last7", "last30", "this_month", "last_month", "all")
PRESET_LABELS = {
    "today": "Today",
    "yesterday": "Yesterday",
    "last7": "Last 7 Days",
    "last30": "Last 30 Days",
    "this_month": "This Month",
    "last_month": "Last Month",
    "all": "All",
}


def _midnight(day: date, tz) -> int:
    # A naive datetime follows the local zone's own rules (daylight saving included);
    # a fixed offset taken from "now" would be an hour off across a clock change.
    return int(datetime.combine(day, time(), tzinfo=tz).timestamp())


def preset_range(preset: str, now: int, tz=None) -> tuple[int | None, int | None]:
    """``(since, until)`` epoch seconds (until exclusive) for a preset, in ``tz``
    (the local zone when None)."""
    if preset not in PRESETS:
        raise ValidationError("preset", f"Choose one of: {', '.join(PRESETS)}.")
    today = datetime.fromtimestamp(now, tz).date()
    tomorrow = today + timedelta(days=1)
    if preset == "today":
        return _midnight(today, tz), _midnight(tomorrow, tz)
    if preset == "yesterday":
        return _midnight(today - timedelta(days=1), tz), _midnight(today, tz)
    if preset == "last7":
        return _midnight(today - timedelta(days=6), tz), _midnight(tomorrow, tz)
    if preset == "last30":
        return _midnight(today - timedelta(days=29), tz), _midnight(tomorrow, tz)
    first = today.replace(day=1)
    if preset == "this_month":
        return _midnight(first, tz), _midnight(tomorrow, tz)
    if preset == "last_month":
        previous = (first - timedelta(days=1)).replace(day=1)
        return _midnight(previous, tz), _midnight(first, tz)
    return None, None


def parse_date(text: str, field: str, tz=None) -> int:
    """``YYYY-MM-DD`` (local midnight) or ``YYYY-MM-DD HH:MM`` → epoch seconds."""
    raw = text.strip()
    for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.strptime(raw, fmt)  # noqa: DTZ007 - zone added below
        except ValueError:
            continue
        try:
            return int((parsed.replace(tzinfo=tz) if tz else parsed).timestamp())
        except (OverflowError, ValueError, OSError):
            break
    raise ValidationError(field, "Enter a date as YYYY-MM-DD (or YYYY-MM-DD HH:MM).")


class LogsMixin:
    def logs(
        self,
        actor: User,
        *,
        since: int | None = None,
        until: int | None = None,
        search: str = "",
        offset: int = 0,
        limit: int = 200,
    ) -> Page[LogEntry]:
        """Newest first. Administrators only."""
        self._require_admin(actor, "read the logs")
        if since is not None and until is not None and since >= until:
            raise ValidationError("until", "The end of the range is before its start.")
        where, params = [], {}
        if since is not None:
            where.append("at >= :since")
            params["since"] = since
        if until is not None:
            where.append("at < :until")
            params["until"] = until
        text = searchable(search)
        if text:
            params["like"] = like_pattern(text)
            where.append(
                "(username LIKE :like ESCAPE '\\' OR event LIKE :like ESCAPE '\\' "
                "OR source LIKE :like ESCAPE '\\' OR description LIKE :like ESCAPE '\\')"
            )
        where_sql = f"WHERE {' AND '.join(where)}" if where else ""
        rows, total = self.store.read_page(
            f"SELECT id, at, username, source, event, description FROM audit_log {where_sql} "
            "ORDER BY at DESC, id DESC LIMIT :limit OFFSET :offset",
            f"SELECT count(*) FROM audit_log {where_sql}",
            params,
            limit=limit,
            offset=offset,
        )
        return Page([LogEntry(**dict(r)) for r in rows], total, max(0, offset))
