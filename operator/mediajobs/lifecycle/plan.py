"""What a MediaJob needs next, decided from plain data (the record, its Job, now).

The reconciler asks ``plan`` for each MediaJob that changed and carries the
answer out. Every answer is safe to carry out twice: a crash between two steps
leaves a state that plans to the same step again (names are deterministic, a
repeated create is a 409, a repeated delete a 404).

A Running MediaJob whose worker has not started says why (its pod's waiting
reason, or the scheduler's) in ``status.waitingReason`` and ``message``. If it
has still not started ``start_timeout`` after its Job did, the attempt ends
with that reason, and what follows depends on whether waiting could help, as a
user would judge it: an image that cannot be pulled fails the MediaJob (the
next attempt would use the same image; ``ErrImageNeverPull`` and
``InvalidImageName`` fail at once, as no wait can help), anything else
(unschedulable: no GPU free, a missing PersistentVolumeClaim; a missing Secret)
is a failed attempt retried with backoff while ``spec.retry.limit`` lasts: its
slot goes to the jobs behind it meanwhile.

A scrape or publish job is queued only once its platform login is known to be
usable (lifecycle/logins.py: ``CheckLogin``, ``NeedLogin``), and a job with
``spec.dependsOn`` once its dependencies have succeeded (lifecycle/dependencies.py:
``Gate``). (Over 400 lines: the step types and the one planner per phase that
returns them are read together; a split would cut that match in two.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mediajobs.api.hitl import HitlPhase, HitlSessionSpec, SecretRef, SessionType
from mediajobs.api.mediajob import Phase
from mediajobs.config import Retention
from mediajobs.jobs.naming import CookiesRef, credentials_ref
from mediajobs.jobs.outcome import Outcome, OutcomeKind
from mediajobs.lifecycle.dependencies import AwaitDependencies, Dependency, Gate, dependency_step
from mediajobs.lifecycle.hitl import Session
from mediajobs.lifecycle.logins import CheckLogin, Login, NeedLogin, login_step
from mediajobs.lifecycle.records import JobView, Record

# Waiting reasons on the way to a start: not worth a word to the user.
STARTING = frozenset({"Pending", "ContainerCreating", "PodInitializing", "Suspended"})
# The image cannot be had: waiting cannot help (the kubelet never tries again) ...
NEVER_STARTS = frozenset({"ErrImageNeverPull", "InvalidImageName"})
# ... or probably will not, and the next attempt would use the same image.
IMAGE_PULL = frozenset({"ErrImagePull", "ImagePullBackOff"}) | NEVER_STARTS
# The kubelet alternates these two while it backs off: one reason to the user.
SAME_REASON = {"ErrImagePull": "ImagePullBackOff"}


@dataclass(frozen=True)
class NotRunning:
    """Why a running Job's worker has not started (a PENDING outcome), and since when:
    the newest pod's creation (a pod replaced after an eviction starts the clock again)."""

    why: Outcome
    since: datetime | None = None


@dataclass(frozen=True)
class Noop:
    """Nothing to do and no slot held (finished, waiting on a human, already suspended...)."""


@dataclass(frozen=True)
class Sleep:
    """Nothing to do before UNTIL (startAfter, retryAfter, the TTL)."""

    until: datetime


@dataclass(frozen=True)
class Expire:
    """Finished and past its TTL: delete the MediaJob (its Job goes with it)."""


@dataclass(frozen=True)
class FailInvalid:
    reason: str


@dataclass(frozen=True)
class Retry:
    """Failed, and a person asked to run it again (spec.manualRetries above what was acted
    on): queue it with a fresh retry budget."""


@dataclass(frozen=True)
class Cancel:
    job: JobView | None  # a Job to delete first


@dataclass(frozen=True)
class Suspend:
    job: JobView | None  # a running Job to suspend (its pods go, its slot is freed)


@dataclass(frozen=True)
class Finish:
    """The Job of the current attempt ended, or its worker exited 0: record the outcome."""

    job: JobView


@dataclass(frozen=True)
class Noted:
    """Its spec was edited since the operator last wrote its status, and STEP (one that
    writes no status of its own) is what follows: observe the generation beside it, and
    say what becomes of the edit (statuses.edit_noted)."""

    then: Noop | Sleep | Queue | Hold


@dataclass(frozen=True)
class Hold:
    """Admitted and running, or Succeeded while its Job settles: holds its slot. CHECK_AT:
    its worker has not started; plan it again then (its start timeout)."""

    job: JobView
    check_at: datetime | None = None


@dataclass(frozen=True)
class NotStarting:
    """Running, holding its slot, and what its pod says has changed: REASON (None: the
    worker started after all) and MESSAGE go into the status."""

    job: JobView
    reason: str | None
    message: str | None


@dataclass(frozen=True)
class GiveUp:
    """The attempt's worker did not start in time, or never can: end the attempt (delete
    its Job, record WHY as its outcome)."""

    job: JobView
    why: Outcome


@dataclass(frozen=True)
class Adopt:
    """A Job runs for an attempt the status does not show as Running yet: just
    admitted or resumed (the status write follows the Job's), or a crash in between."""

    job: JobView


@dataclass(frozen=True)
class Recreate:
    """Running, but the current run's Job is not in the view: just created and the watch
    lags, or deleted behind the operator's back. Creating it again is idempotent."""

    run: int
    attempt: int


@dataclass(frozen=True)
class OpenSession:
    """Waiting for a person, and the HitlSession it names is not open for it (missing,
    or one that closed before this job began to wait): open it (a finished one is
    replaced). SPEC is what a new session holds."""

    name: str
    spec: HitlSessionSpec


@dataclass(frozen=True)
class JoinSession:
    """Waiting on the open HitlSession NAME, which does not list it yet."""

    name: str


@dataclass(frozen=True)
class FailHuman:
    """Its HitlSession expired or was cancelled: the job fails with REASON."""

    reason: str
    message: str


@dataclass(frozen=True)
class Queue:
    """Ready to run: wait for admission, then create the Job of RUN (its name's number)
    for ATTEMPT. RESUME is a suspended Job to unsuspend instead (preempted or suspended:
    the same run goes on)."""

    run: int
    attempt: int
    resume: JobView | None = None


Plan = (
    Noop
    | Noted
    | Sleep
    | Expire
    | FailInvalid
    | Retry
    | Cancel
    | Suspend
    | Finish
    | Hold
    | NotStarting
    | GiveUp
    | Adopt
    | Recreate
    | OpenSession
    | JoinSession
    | FailHuman
    | CheckLogin
    | NeedLogin
    | Gate
    | Queue
)


def ttl_seconds(record: Record, retention: Retention) -> int | None:
    if record.spec.ttl_seconds_after_finished is not None:
        return record.spec.ttl_seconds_after_finished
    return {
        Phase.SUCCEEDED: retention.succeeded_seconds,
        Phase.FAILED: retention.failed_seconds,
        Phase.CANCELLED: retention.cancelled_seconds,
        Phase.SKIPPED: retention.cancelled_seconds,
    }.get(record.phase or Phase.PENDING)


def holds_slot(step: Plan) -> bool:
    """Whether the MediaJob keeps its slot through STEP: a Finish does until its Job has
    settled (the worker exited 0; its pod holds the node's resources and quota till then)."""
    goes_on = step.then if isinstance(step, Noted) else step
    if isinstance(goes_on, Finish):
        return not goes_on.job.finished
    return isinstance(goes_on, Hold | NotStarting | Recreate | Adopt)


def _settling(record: Record, job: JobView | None) -> JobView | None:
    """The current run's Job, settling after the MediaJob Succeeded on its worker's exit."""
    if job is None or job.finished or record.phase != Phase.SUCCEEDED:
        return None
    return job if job.run == record.runs else None


def retry_requested(record: Record) -> bool:
    """Whether spec.manualRetries asks for a run the operator has not given yet."""
    return record.spec.manual_retries > (record.status.manual_retries or 0)


def _finished_plan(record: Record, retention: Retention, now: datetime) -> Plan:
    ttl = ttl_seconds(record, retention)
    done = record.status.completed_at
    if ttl is None or done is None:
        return Noop()
    expires = done + timedelta(seconds=ttl)
    return Expire() if expires <= now else Sleep(expires)


def plan(
    record: Record,
    job: JobView | None,
    now: datetime,
    retention: Retention,
    *,
    pending: NotRunning | None = None,
    start_timeout: timedelta = timedelta(minutes=10),
    session: Session | None = None,
    cookies: CookiesRef | None = None,
    login: Login | None = None,
    dependencies: Mapping[str, Dependency] | None = None,
    cycle: Sequence[str] | None = None,
    worker_succeeded: bool = False,
) -> Plan:
    """The next step for RECORD; JOB is its newest Job (highest run), if any;
    PENDING why that Job's worker has not started (None: it has, or no Job runs);
    WORKER_SUCCEEDED whether that Job's worker exited 0 (its pod says so before the Job);
    SESSION the HitlSession its status names, if it exists; COOKIES the session Secret
    it needs (lifecycle/logins.py login_ref; None: none) and LOGIN the last verdict on
    it, if there is one; DEPENDENCIES what is known of each of its dependsOn, CYCLE a
    cycle of dependsOn through it."""
    step = _plan(
        record, job, now, retention, pending, start_timeout, session, done=worker_succeeded
    )
    if isinstance(step, Queue) and step.resume is None and step.attempt == 1:
        step = _gate(record, dependencies or {}, cycle, now) or step
    if isinstance(step, Queue) and step.resume is None and record.phase != Phase.WAITING_FOR_HUMAN:
        # Its session's resolution was the check: queued at once (no new session opened).
        step = login_step(record, cookies, login, now) or step
    observed = record.status.observed_generation
    edited = observed is not None and record.generation > observed
    # Every other step writes a status (which observes the generation) or leads to one.
    if edited and isinstance(step, Noop | Sleep | Queue | Hold):
        return Noted(step)
    return step


def _gate(
    record: Record, deps: Mapping[str, Dependency], cycle: Sequence[str] | None, now: datetime
) -> Plan | None:
    """The dependency gate's step (None: none); a wait already shown writes nothing."""
    step = dependency_step(record, deps, cycle, now)
    if not isinstance(step, AwaitDependencies) or not step.shown_in(record):
        return Gate(step) if step is not None else None
    return Sleep(step.check_at) if step.check_at is not None else Noop()


def _plan(  # noqa: PLR0911, PLR0917 - one return per state; plan()'s arguments
    record: Record,
    job: JobView | None,
    now: datetime,
    retention: Retention,
    pending: NotRunning | None,
    start_timeout: timedelta,
    session: Session | None,
    *,
    done: bool = False,
) -> Plan:
    """DONE: JOB's worker exited 0, which ends the attempt as a Job condition would."""
    phase = record.phase
    if phase == Phase.FAILED and retry_requested(record):
        return Retry()
    if phase is not None and phase.finished:
        settling = _settling(record, job)
        return Hold(settling) if settling is not None else _finished_plan(record, retention, now)
    if record.spec.cancel:
        return Cancel(job if job is not None and not job.finished else None)
    if record.invalid is not None:
        return FailInvalid(record.invalid)
    runs = record.runs
    if job is not None and job.run > runs:
        return Finish(job) if job.finished or done else Adopt(job)
    current = job if job is not None and job.run == runs else None
    if record.spec.suspend:
        return _suspend_plan(record, current)
    if phase == Phase.RUNNING:
        if current is None:
            return Recreate(runs, record.status.attempts or 0)
        if current.finished or done:
            return Finish(current)
        if not current.suspended:
            return _running_plan(record, current, pending, now, start_timeout)
    if phase == Phase.QUEUED and current is not None and current.finished and _preempted(record):
        return Finish(current)  # preempted as it ended (the suspend came late): it stands
    if phase == Phase.WAITING_FOR_HUMAN:
        return _human_plan(record, session, now)
    return _waiting_plan(record, current, now)


def _running_plan(
    record: Record, job: JobView, pending: NotRunning | None, now: datetime, timeout: timedelta
) -> Plan:
    """Running, its Job unfinished: hold the slot; say why the worker has not started,
    and give the attempt up when it never will."""
    said = record.status.waiting_reason
    if pending is None:
        return NotStarting(job, None, None) if said is not None else Hold(job)
    why = pending.why
    reason = SAME_REASON.get(why.reason, why.reason)
    since = max((t for t in (job.started, pending.since) if t is not None), default=None)
    deadline = since + timeout if since is not None else None
    if reason in NEVER_STARTS or (deadline is not None and deadline <= now):
        kind = OutcomeKind.INVALID if reason in IMAGE_PULL else OutcomeKind.RETRYABLE
        within = "" if reason in NEVER_STARTS else f" within {timeout.total_seconds():g}s"
        message = f"the worker did not start{within}: {why.message}"
        return GiveUp(job, Outcome(kind, reason, message))
    if reason not in STARTING and reason != said:  # said once per reason, not per retry
        return NotStarting(job, reason, why.message)
    return Hold(job, check_at=deadline)


def _suspend_plan(record: Record, current: JobView | None) -> Plan:
    running = current if current is not None and not current.finished else None
    if running is not None and not running.suspended:
        return Suspend(running)
    return Noop() if record.phase == Phase.SUSPENDED else Suspend(None)


def _human_plan(record: Record, session: Session | None, now: datetime) -> Plan:
    """Waiting for a person: open (or join) its HitlSession; when that session closes
    after the job began to wait, queue it again (no retry spent) or fail it."""
    name = record.status.hitl_session
    spec = record.spec
    if name is None or spec.creator_profile is None or spec.platform is None:
        return Noop()  # no profile and platform to name a login by: a person must act
    if session is None or not _applies(record, session):
        alert = record.status.message or f"{spec.platform} asks {spec.creator_profile} to log in"
        # A session replaced keeps the Secret a person pointed it at.
        cookies = (
            session.credentials
            if session is not None
            else credentials_ref(spec.creator_profile, spec.platform, None)
        )
        return OpenSession(
            name,
            HitlSessionSpec(
                creator_profile=spec.creator_profile,
                platform=spec.platform,
                session_type=SessionType.LOGIN_REQUIRED,
                alert_message=alert[:1024],
                credentials_secret_ref=SecretRef(name=cookies.secret, key=cookies.key),
            ),
        )
    phase = session.status.phase
    if phase == HitlPhase.RESOLVED:
        # After a logout mid-run, next_attempt is the attempt it interrupted.
        return Queue(record.runs + 1, record.next_attempt)
    if phase in {HitlPhase.EXPIRED, HitlPhase.CANCELLED}:
        reason = "HitlExpired" if phase == HitlPhase.EXPIRED else "HitlCancelled"
        return FailHuman(reason, f"HitlSession {name}: {session.status.message or phase}")
    if session.open and record.key.name not in (session.status.waiting_jobs or []):
        return JoinSession(name)
    return Noop()


def _applies(record: Record, session: Session) -> bool:
    """Whether SESSION's state is RECORD's to act on: open, or closed since it began to
    wait and listing it (else it is an earlier login's, to replace)."""
    if session.open:
        return True
    since, closed = waiting_since(record), session.status.closed_at
    listed = record.key.name in (session.status.waiting_jobs or [])
    return listed and since is not None and closed is not None and closed >= since


def waiting_since(record: Record) -> datetime | None:
    """When RECORD began to wait for a person (its WaitingForHuman condition turned True)."""
    conditions = record.status.conditions or []
    waiting = (c for c in conditions if c.type == "WaitingForHuman" and c.status == "True")
    return next((c.last_transition_time for c in waiting), None)


def _preempted(record: Record) -> bool:
    """Whether RECORD waits because it was preempted (the Admitted condition says so)."""
    conditions = record.status.conditions or []
    return any(c.type == "Admitted" and c.reason == "Preempted" for c in conditions)


def _waiting_plan(record: Record, current: JobView | None, now: datetime) -> Plan:
    """Not suspended, not cancelled, no finished attempt to record: hold, wait or queue."""
    phase = record.phase
    if current is not None and not current.finished:
        if current.suspended:
            return Queue(current.run, current.attempt, resume=current)
        # Admission creates (or resumes) the Job; the status follows as its own write.
        # (A Job left to an attempt given up, BackingOff, is on its way out.)
        if phase != Phase.BACKING_OFF:
            return Hold(current) if phase == Phase.RUNNING else Adopt(current)
    if phase == Phase.BACKING_OFF and record.status.retry_after and record.status.retry_after > now:
        return Sleep(record.status.retry_after)
    start_after = record.spec.start_after
    if record.runs == 0 and start_after is not None and start_after > now:
        return Sleep(start_after)
    return Queue(record.runs + 1, record.next_attempt)
