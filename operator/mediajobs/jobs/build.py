"""MediaJob run -> ``batch/v1`` Job manifest, as a plain dict.

One Job per run (jobs/naming.py), and the operator owns retries: ``backoffLimit: 0``, and
the worker's exit codes (api/task.py ``ExitCode``) fail the Job at once through
``podFailurePolicy`` so its Failed condition names the rule. A disrupted pod
(eviction, preemption, node drain) is not the worker's fault: the Job
controller replaces it and no retry is spent. A scraper pod (and only a scraper pod)
mounts its platform session Secret's cookies read-only, the Secret and key the operator
checked before admission (lifecycle/logins.py login_ref); the Task says where.
"""

from __future__ import annotations

from typing import Any

from mediajobs.api.common import API_VERSION
from mediajobs.api.mediajob import KIND, MediaJobSpec
from mediajobs.api.task import TASK_ENV, TERMINATION_LOG, ExitCode
from mediajobs.catalog import Runner, entry
from mediajobs.config import GpuPool, OperatorConfig
from mediajobs.jobs.naming import CONTAINER, COOKIES_KEY, CookiesRef, job_labels, job_name
from mediajobs.jobs.placement import Placement
from mediajobs.jobs.task import SCRATCH_DIR, SESSION_DIR, build_task

GPU_RESOURCE = "nvidia.com/gpu"
# The uid and gid the images run as; fsGroup makes the media volume writable to it.
RUN_AS = 10001
WORKER_COMMAND = {Runner.FFMPEG: ["mediajobs", "worker"], Runner.SCRAPER: ["mediajobs", "scrape"]}
_FAIL_JOB_CODES = (ExitCode.INVALID, ExitCode.LOGIN_REQUIRED, ExitCode.TEMPORARY)


def _pod_failure_policy() -> dict[str, Any]:
    # The disruption rule comes first: rules match in order, and a preempted
    # worker that exits 75 on SIGTERM must still get a replacement pod, not a
    # failed Job.
    disrupted = {
        "action": "Ignore",
        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
    }
    by_code = [
        {
            "action": "FailJob",
            "onExitCodes": {"containerName": CONTAINER, "operator": "In", "values": [int(code)]},
        }
        for code in _FAIL_JOB_CODES
    ]
    return {"rules": [disrupted, *by_code]}


def _container(spec: MediaJobSpec, task_json: str, config: OperatorConfig) -> dict[str, Any]:
    """Image, command and env by the operation's runner; the task JSON always goes in."""
    task_env = {"name": TASK_ENV, "value": task_json}
    runner = entry(spec.operation).runner
    if runner is Runner.CUSTOM:
        if spec.container is None:  # the CRD requires it; a stale object may not have it
            raise ValueError("operation custom requires spec.container")
        user_env = [e.wire() for e in spec.container.env or [] if e.name != TASK_ENV]
        out: dict[str, Any] = {"name": CONTAINER, "image": spec.container.image}
        if spec.container.command is not None:
            out["command"] = list(spec.container.command)
        if spec.container.args is not None:
            out["args"] = list(spec.container.args)
        out["env"] = [*user_env, task_env]
        return out
    image = config.images.ffmpeg_worker if runner is Runner.FFMPEG else config.images.scraper
    return {
        "name": CONTAINER,
        "image": image,
        "command": list(WORKER_COMMAND[runner]),
        "env": [task_env],
    }


def _session_volume(cookies: CookiesRef) -> tuple[dict[str, Any], dict[str, Any]]:
    """The platform session Secret of COOKIES as (volume, mount): only its cookies (at
    ``cookies.json``, whatever the Secret's key), read-only.

    Optional: a Secret deleted after admission leaves the file missing, and the scraper
    exits 3 (login required) instead of the pod hanging in ContainerCreating.
    """
    volume = {
        "name": "session",
        "secret": {
            "secretName": cookies.secret,
            "items": [{"key": cookies.key, "path": COOKIES_KEY}],
            "defaultMode": 0o440,  # owner root, group fsGroup: the worker's uid reads it
            "optional": True,
        },
    }
    mount = {"name": "session", "mountPath": SESSION_DIR, "readOnly": True}
    return volume, mount


def _resources(placement: Placement) -> dict[str, Any]:
    # Memory limit = request: an attempt that outgrows it is OOMKilled and
    # retried, instead of starving its neighbours. No CPU limit: throttling an
    # encode only makes it slower. GPUs are an extended resource: the limit is
    # required, and the request (equal to it) is what the quota counts.
    requests = {"cpu": placement.cpu, "memory": placement.memory}
    limits = {"memory": placement.memory}
    if placement.gpus > 0:
        requests[GPU_RESOURCE] = limits[GPU_RESOURCE] = str(placement.gpus)
    return {"requests": requests, "limits": limits}


def build_job(
    *,
    name: str,
    namespace: str,
    uid: str,
    spec: MediaJobSpec,
    attempt: int,
    run: int,
    placement: Placement,
    config: OperatorConfig,
    pool: GpuPool | None,
    cookies: CookiesRef | None = None,
) -> dict[str, Any]:
    """The Job of RUN (ATTEMPT's) of the MediaJob NAME (metadata.uid UID).

    POOL is the GPU pool admission chose; required for, and only applied to,
    placements holding GPUs. COOKIES is the platform session Secret a scraper pod
    mounts, and only a scraper pod. Raises ValueError when either does not hold.
    """
    if (placement.gpus > 0) != (pool is not None):
        raise ValueError(f"a GPU pool goes with GPU placements only (gpus={placement.gpus})")
    if cookies is not None and entry(spec.operation).runner is not Runner.SCRAPER:
        raise ValueError(f"only a scraper pod mounts platform cookies, not {spec.operation}")
    labels = job_labels(name=name, uid=uid, attempt=attempt, run=run, category=placement.category)
    task = build_task(
        name=name,
        namespace=namespace,
        uid=uid,
        spec=spec,
        attempt=attempt,
        placement=placement,
        config=config,
        cookies=cookies is not None,
    )
    container = _container(spec, task.model_dump_json(by_alias=True, exclude_none=True), config)
    container |= {
        "imagePullPolicy": config.images.pull_policy,
        "resources": _resources(placement),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "media", "mountPath": config.media.mount_path},
            {"name": "scratch", "mountPath": SCRATCH_DIR},
        ],
        "terminationMessagePath": TERMINATION_LOG,
        # A worker that dies before writing its message still leaves its last log lines.
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "priorityClassName": placement.category.priority_class,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "fsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "terminationGracePeriodSeconds": config.termination_grace_seconds,
        "containers": [container],
        "volumes": [
            {"name": "media", **config.media.source},
            {"name": "scratch", "emptyDir": {}},
        ],
    }
    if cookies is not None:
        volume, mount = _session_volume(cookies)
        pod["volumes"].append(volume)
        container["volumeMounts"].append(mount)
    if config.job_service_account:
        pod["serviceAccountName"] = config.job_service_account
    if pool is not None:
        pod["nodeSelector"] = dict(pool.node_selector)
        pod["tolerations"] = [dict(t) for t in pool.tolerations]
    job_spec: dict[str, Any] = {
        "backoffLimit": 0,
        "podFailurePolicy": _pod_failure_policy(),
        # What podFailurePolicy implies anyway: a replacement pod starts only
        # once the old one is gone, so an attempt never holds quota twice.
        "podReplacementPolicy": "Failed",
    }
    if spec.deadline_seconds is not None:
        job_spec["activeDeadlineSeconds"] = spec.deadline_seconds
    job_spec |= {
        "suspend": False,
        "template": {"metadata": {"labels": dict(labels)}, "spec": pod},
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(name, uid, run),
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": API_VERSION,
                    "kind": KIND,
                    "name": name,
                    "uid": uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": job_spec,
    }


def suspend_patch(suspend: bool) -> dict[str, Any]:
    """A merge patch pausing (True) or resuming (False) a Job.

    Suspending deletes the Job's running pods (their quota is freed at once);
    resuming starts a fresh pod and resets the Job's active deadline clock.
    """
    return {"spec": {"suspend": suspend}}
