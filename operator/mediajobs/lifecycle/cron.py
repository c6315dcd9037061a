"""Schedule arithmetic: which instants a MediaJobSchedule names, in its time zone.

cronsim reads the expressions, as Debian's cron reads them (it is Healthchecks'
parser, and kept as such): croniter was the other candidate, but cronsim is the
one whose stated aim is cron's own daylight-saving behaviour. So a run at a fixed
local time (``30 2 * * *``) whose hour the spring change skips runs once, right
after the jump (03:00), and one whose hour the autumn change repeats runs once,
at its first occurrence; a job with a wildcard hour or minute (``0 * * * *``) runs
at each real instant that matches, so it neither doubles nor drops an hour either.

Every instant here is an aware UTC datetime: the time zone is only how the
expressions are read. Several expressions name the union of their instants (one
run for an instant two of them name).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

# Missed instants counted one by one after downtime (a cron step costs 25-150 µs);
# past this many, the latest is found by reading backwards and the count is a floor.
COUNT_LIMIT = 2000
_PROBE = datetime(2000, 1, 1, tzinfo=UTC)


def zone_problem(name: str) -> str | None:
    """Why NAME is not a time zone the tz database knows (None: it is)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"timeZone {name!r} is not an IANA time zone (e.g. Europe/Berlin, UTC)"
    return None


def cron_problem(expression: str) -> str | None:
    """Why EXPRESSION (five fields, macros already spelt out) is not valid cron."""
    if len(expression.split()) != 5:
        return f"schedule {expression!r}: a cron expression has five fields"
    try:
        CronSim(expression, _PROBE)
    except CronSimError as err:
        return f"schedule {expression!r}: {str(err).lower()}"
    return None


@dataclass(frozen=True)
class Count:
    """Instants in a span: how many, and the latest. EXACT is False when there were
    more than COUNT_LIMIT: then COUNT is a floor."""

    count: int
    latest: datetime | None
    exact: bool = True


@dataclass(frozen=True)
class Times:
    """The instants named by CRONS (valid cron, five fields each) read in ZONE."""

    crons: Sequence[str]
    zone: ZoneInfo

    @classmethod
    def of(cls, crons: Sequence[str], zone: str) -> Times:
        return cls(tuple(crons), ZoneInfo(zone))

    def _after_one(self, cron: str, t: datetime) -> datetime | None:
        try:
            for found in CronSim(cron, t.astimezone(self.zone)):
                # A fixed-time job is matched on local wall time: after an autumn change
                # the wall clock passes its time again, earlier in real time. Skip those.
                if found > t:
                    return found.astimezone(UTC)
        except StopIteration:  # cronsim ends an expression with no instant in 50 years
            pass
        return None

    def after(self, t: datetime) -> datetime | None:
        """The first instant strictly after T (None: there is none)."""
        found = [n for n in (self._after_one(c, t) for c in self.crons) if n is not None]
        return min(found, default=None)

    def iterate(self, after: datetime) -> Iterator[datetime]:
        """Every instant after AFTER, in order."""
        t = self.after(after)
        while t is not None:
            yield t
            t = self.after(t)

    def _latest_by(self, until: datetime) -> datetime | None:
        """The latest instant at or before UNTIL, read backwards."""
        start = (until + timedelta(seconds=1)).astimezone(self.zone).replace(microsecond=0)
        latest = []
        for cron in self.crons:
            try:
                found = next(CronSim(cron, start, reverse=True)).astimezone(UTC)
            except StopIteration:
                continue
            latest.append(found)
        return max((t for t in latest if t <= until), default=None)

    def span(self, after: datetime, until: datetime) -> Count:
        """The instants in (AFTER, UNTIL]."""
        count, latest = 0, None
        for t in self.iterate(after):
            if t > until:
                return Count(count, latest)
            if count == COUNT_LIMIT:
                return Count(count + 1, self._latest_by(until), exact=False)
            count, latest = count + 1, t
        return Count(count, latest)
