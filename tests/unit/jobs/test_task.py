"""The Task an attempt's worker receives."""

from __future__ import annotations

from mediajobs.api.task import Task
from mediajobs.catalog import NEEDS_PLATFORM
from mediajobs.jobs.placement import placement_for
from mediajobs.jobs.task import build_task
from tests.builders import MediaJobBuilder, mediajob
from tests.unit.jobs.builders import NAMESPACE, UID, operator_config, spec_of


def task_of(builder: MediaJobBuilder, attempt: int = 1, **config: object) -> Task:
    spec = spec_of(builder)
    return build_task(
        name="intro",
        namespace=NAMESPACE,
        uid=UID,
        spec=spec,
        attempt=attempt,
        placement=placement_for(spec),
        config=operator_config(**config),
        cookies=spec.operation in NEEDS_PLATFORM,
    )


def test_single_input_task() -> None:
    builder = mediajob("intro", "reencode_streaming").params(crf=20).creator("alice", "fansly")
    assert task_of(builder.spec(output={"path": "out/intro.mp4"}), attempt=2).wire() == {
        "uid": UID,
        "namespace": NAMESPACE,
        "name": "intro",
        "attempt": 2,
        "operation": "reencode_streaming",
        "params": {"crf": 20},  # as given: the worker applies the defaults
        "inputs": [{"path": "in/clip.mp4"}],
        "output": {"path": "out/intro.mp4"},
        "mediaRoot": "/media",
        "scratchDir": "/tmp",
        "gpu": True,
        "creatorProfile": "alice",
        "platform": "fansly",
        "progress": {"redisUrl": "redis://mediajobs-redis:6379/0", "stream": "mediajobs:progress"},
        "allowPrivateUrls": False,
        "maxDownloadBytes": 20 * 1024**3,
        "memoryLimitBytes": 2 * 1024**3,  # the catalog's 2Gi: the worker's decode budget
    }


def test_inputs_in_order_and_default_output() -> None:
    task = task_of(mediajob("intro", "compile_concat").inputs("b.mp4", "a.mp4"))
    assert [i.path for i in task.inputs] == ["b.mp4", "a.mp4"]
    assert task.output.wire() == {"prefix": f"mediajobs/{NAMESPACE}/intro/"}


def test_an_empty_output_means_the_default_prefix() -> None:
    task = task_of(mediajob("intro", "validate").spec(output={}))
    assert task.output.prefix == f"mediajobs/{NAMESPACE}/intro/"


def test_no_input_no_params_cpu_placement() -> None:
    task = task_of(mediajob("intro", "scrape_profile").no_input().creator("alice", "fansly"))
    assert (task.inputs, task.params, task.gpu) == ([], {}, False)


def test_an_encode_moved_to_cpu_gets_no_gpu() -> None:
    assert not task_of(mediajob("intro", "reencode_streaming").spec(category="cpu")).gpu


def test_config_reaches_the_task() -> None:
    task = task_of(
        mediajob("intro", "validate").url("https://cdn.example/a.mp4"),
        media={"mountPath": "/library"},
        progressStream="mj:p",
        allowPrivateUrls=True,
        maxDownloadBytes=1000,
        redisUrl=None,
    )
    assert task.media_root == "/library"
    assert task.progress.wire() == {"stream": "mj:p"}
    assert (task.allow_private_urls, task.max_download_bytes) == (True, 1000)
    assert task.inputs[0].url == "https://cdn.example/a.mp4"
