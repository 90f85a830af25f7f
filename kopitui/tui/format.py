"""How times are shown: local time and UTC side by side."""

from __future__ import annotations

from datetime import UTC, datetime


def when(timestamp: int | None) -> str:
    if timestamp is None:
        return "never"
    utc = datetime.fromtimestamp(timestamp, UTC)
    try:
        local = utc.astimezone()
    except (OverflowError, ValueError):  # near year 9999, local time may not exist
        return f"{utc:%Y-%m-%d %H:%M} UTC"
    if local.utcoffset() == utc.utcoffset():
        return f"{utc:%Y-%m-%d %H:%M} UTC"
    return f"{local:%Y-%m-%d %H:%M} {local:%Z} ({utc:%Y-%m-%d %H:%M} UTC)"
