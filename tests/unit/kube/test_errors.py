"""kube/errors.py: what an answer means, and the one line a fatal one says."""

from __future__ import annotations

import pytest

from mediajobs.kube.errors import (
    ApiError,
    Forbidden,
    Unauthorized,
    classify,
    describe,
    message_of,
    resendable,
)

RBAC_DENIAL = (
    'jobs.batch is forbidden: User "system:serviceaccount:team:op" cannot create '
    'resource "jobs" in API group "batch" in the namespace "team"'
)


@pytest.mark.parametrize(
    ("method", "path", "params", "said"),
    [
        (
            "POST",
            "/apis/batch/v1/namespaces/team/jobs",
            None,
            "create jobs.batch in namespace team",
        ),
        ("GET", "/apis/batch/v1/namespaces/team/jobs", None, "list jobs.batch in namespace team"),
        ("GET", "/apis/batch/v1/jobs", {"watch": "true"}, "watch jobs.batch"),
        ("GET", "/api/v1/namespaces/team/pods/p", None, "get pods p in namespace team"),
        (
            "PATCH",
            "/apis/mediajobs.dev/v1alpha1/namespaces/team/mediajobs/a/status",
            None,
            "patch mediajobs.mediajobs.dev/status a in namespace team",
        ),
        ("POST", "/api/v1/namespaces/team/events", None, "create events in namespace team"),
        (
            "POST",
            "/apis/scheduling.k8s.io/v1/priorityclasses",
            None,
            "create priorityclasses.scheduling.k8s.io",
        ),
        ("DELETE", "/api/v1/namespaces/team/pods", None, "deletecollection pods in namespace team"),
        ("DELETE", "/api/v1/namespaces/team", None, "delete namespaces team"),
        ("GET", "/version", None, "get /version"),
    ],
)
def test_a_request_in_rbac_words(
    method: str, path: str, params: dict[str, str] | None, said: str
) -> None:
    assert describe(method, path, params) == said


def test_an_rbac_denial_is_fatal_and_says_verb_resource_and_user_in_one_line() -> None:
    error = classify(
        403, RBAC_DENIAL, "POST", "/apis/batch/v1/namespaces/team/jobs", who="context kind-a"
    )
    assert isinstance(error, Forbidden)
    assert error.fatal
    assert not error.temporary
    assert str(error) == (
        "forbidden: cannot create jobs.batch in namespace team "
        "as system:serviceaccount:team:op (context kind-a)"
    )
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    "message",
    [
        'jobs.batch "a" is forbidden: exceeded quota: q, requested: count/jobs.batch=1',
        'events "x" is forbidden: unable to create new content in namespace t because it is '
        "being terminated",
    ],
)
def test_other_403s_are_the_callers(message: str) -> None:
    error = classify(403, message, "POST", "/apis/batch/v1/namespaces/t/jobs")
    assert type(error) is ApiError
    assert not error.fatal
    assert error.message == message


def test_a_401_that_outlived_a_new_login_is_fatal() -> None:
    error = classify(401, "Unauthorized", "GET", "/api/v1/namespaces/t/pods", who="sa token")
    assert isinstance(error, Unauthorized)
    assert error.fatal
    assert str(error).startswith(
        "unauthorized: the API server refused the credentials of sa token to list pods"
    )


@pytest.mark.parametrize(("status", "temporary"), [(0, True), (429, True), (500, True),
                                                   (503, True), (404, False), (409, False),
                                                   (422, False)])  # fmt: skip
def test_what_is_temporary(status: int, temporary: bool) -> None:
    error = classify(status, "x", "GET", "/api/v1/pods")
    assert error.temporary is temporary
    assert not error.fatal


@pytest.mark.parametrize(
    ("method", "body", "status", "again"),
    [
        ("POST", {"metadata": {"name": "job-a-1"}}, 0, True),  # a repeat is a 409
        ("POST", {"metadata": {"name": "job-a-1"}}, 504, True),
        ("POST", {"metadata": {"generateName": "job-"}}, 0, False),  # a repeat is a second one
        ("POST", {"metadata": {"generateName": "job-"}}, 500, False),
        ("POST", {"metadata": {"generateName": "job-"}}, 429, True),  # refused before any work
        ("POST", None, 0, False),
        ("PATCH", {"status": {}}, 0, True),
        ("DELETE", None, 503, True),
        ("GET", None, 0, True),
    ],
)
def test_a_create_is_sent_again_only_when_a_repeat_cannot_duplicate(
    method: str, body: dict[str, object] | None, status: int, again: bool
) -> None:
    assert resendable(method, body, ApiError(status, "x")) is again


def test_messages_of_a_status_and_of_a_plain_answer() -> None:
    assert message_of(b'{"kind":"Status","message":"nope"}') == "nope"
    assert message_of(b"404 page not found\n") == "404 page not found"
    assert message_of(b"[1]") == "[1]"
