"""The demo set of `make run` (hack/demo_jobs.py) and the library it reads (hack/demo_library.py):
every job is a valid MediaJob, reads a file the library makes, and the queue shows priority."""

from __future__ import annotations

from mediajobs.api.mediajob import MediaJob
from mediajobs.jobs.placement import placement_for
from tests.localcluster import load_hack

jobs_mod = load_hack("demo_jobs")
library_mod = load_hack("demo_library")

REQUIRED = {
    "reencode_streaming", "create_teaser", "thumbnail_generate", "apply_watermark",
    "strip_metadata", "apply_steganographic_watermark", "compile_quad",
}  # fmt: skip


def test_every_demo_job_is_a_valid_mediajob_reading_a_file_of_the_library() -> None:
    library = set(library_mod.makers())
    for manifest in jobs_mod.demo_jobs():
        job = MediaJob.model_validate(manifest)
        inputs = [job.spec.input] if job.spec.input else list(job.spec.inputs or [])
        assert inputs, manifest
        for source in inputs:
            assert source.path in library, (manifest["metadata"]["name"], source.path)
        assert placement_for(job.spec).cpu == jobs_mod.CPU


def test_the_demo_covers_the_required_operations_a_corrupt_input_and_a_queue() -> None:
    jobs = {m["metadata"]["name"]: m for m in jobs_mod.demo_jobs()}
    assert {m["spec"]["operation"] for m in jobs.values()} >= REQUIRED
    assert jobs[jobs_mod.CORRUPT]["spec"]["input"]["path"] == jobs_mod.CORRUPT_INPUT
    queue = [jobs[name] for name, _ in jobs_mod.QUEUE]
    assert len({placement_for(MediaJob.model_validate(q).spec).category for q in queue}) == 1
    assert [q["spec"]["priority"] for q in queue] == [9, 5, 1]  # applied lowest first
    names = list(jobs)
    assert names.index("scene-detect") < min(names.index(n) for n, _ in jobs_mod.QUEUE)
    assert jobs_mod.expected_phases()[jobs_mod.CORRUPT] == "Failed"
