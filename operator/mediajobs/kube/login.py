"""Log in the way kubectl does, and stay logged in.

Where credentials come from, in controller-runtime's order: `--kubeconfig`, then
$KUBECONFIG, then the pod's service account (KUBERNETES_SERVICE_HOST/PORT, the
token and CA files), then ~/.kube/config; `--context` picks a kubeconfig context
(the current one by default).

Reading them is the `kubernetes` package's loader (the one kopf's
`login_via_client` uses): inline or file client certificates and keys, CA data or
file, tokens and token files, basic auth, exec credential plugins, auth-providers,
`proxy-url`, `tls-server-name`, `insecure-skip-tls-verify`. What it yields becomes
plain `Credentials` (kube/credentials.py) that the client's aiohttp transport sends.

`Login` holds the current credentials, kopf's vault pattern: loaded again when they
are due (an exec plugin's expiry, a token file's minute), and when the API server
refuses them (a 401): the first refused request loads again while the others wait
for it, then all retry with the new ones; when the new ones are the old ones, the
credentials are dead and the request fails with `Unauthorized` instead of looping.
Loading runs in a thread: a plugin is a subprocess, a kubeconfig a file.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml
from kubernetes.client import Configuration
from kubernetes.config import ConfigException
from kubernetes.config.incluster_config import (
    SERVICE_HOST_ENV_NAME,
    SERVICE_PORT_ENV_NAME,
    InClusterConfigLoader,
)
from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

from mediajobs.kube.credentials import Credentials, authorization, refresh_time
from mediajobs.kube.errors import Unauthorized

log = logging.getLogger("mediajobs.login")

# Where the kubelet mounts the service account; $MEDIAJOBS_SERVICE_ACCOUNT_DIR moves it
# (a token projected elsewhere, or a test that plays the pod).
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_KUBECONFIG = "~/.kube/config"


class LoginError(Exception):
    """No usable credentials: no kubeconfig, a broken one, a failing exec plugin."""


@dataclass(frozen=True)
class Source:
    """Where credentials are loaded from: a kubeconfig (and a context), or a service account."""

    kubeconfig: str = DEFAULT_KUBECONFIG  # a path, or several joined with ':' ($KUBECONFIG)
    context: str | None = None
    service_account: Path | None = None  # a folder with token and ca.crt
    service: tuple[str, str] = ("", "")  # the API server's host and port, seen from a pod

    @property
    def name(self) -> str:
        if self.service_account is not None:
            return f"the service account token in {self.service_account}"
        context = f", context {self.context}" if self.context else ""
        return f"kubeconfig {self.kubeconfig}{context}"


def find_source(
    *, kubeconfig: str | None = None, context: str | None = None, environ: Mapping[str, str]
) -> Source:
    """Where to log in from (controller-runtime's order; see the module's docstring)."""
    if kubeconfig or context:
        return Source(kubeconfig or environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG, context)
    if environ.get("KUBECONFIG"):
        return Source(environ["KUBECONFIG"])
    host, port = environ.get(SERVICE_HOST_ENV_NAME), environ.get(SERVICE_PORT_ENV_NAME)
    folder = Path(environ.get("MEDIAJOBS_SERVICE_ACCOUNT_DIR") or SERVICE_ACCOUNT_DIR)
    if host and port and (folder / "token").is_file():
        return Source(service_account=folder, service=(host, port))
    return Source(DEFAULT_KUBECONFIG)


def _from_configuration(
    config: Configuration, *, who: str, now: datetime, expires: datetime | None, token_file: bool
) -> Credentials:
    return Credentials(
        server=str(config.host).rstrip("/"),
        who=who,
        authorization=authorization(config.api_key.get("BearerToken")),
        ca_file=config.ssl_ca_cert,
        cert_file=config.cert_file,
        key_file=config.key_file,
        verify=bool(config.verify_ssl),
        tls_server_name=config.tls_server_name,
        proxy=config.proxy,
        refresh_at=refresh_time(now, expires, token_file=token_file),
    )


def _load_service_account(folder: Path, service: tuple[str, str], now: datetime) -> Credentials:
    host, port = service
    config = Configuration()
    InClusterConfigLoader(
        token_filename=str(folder / "token"),
        cert_filename=str(folder / "ca.crt"),
        try_refresh_token=False,  # Login re-reads it (the loader's hook is for its own client)
        environ={SERVICE_HOST_ENV_NAME: host, SERVICE_PORT_ENV_NAME: port},
    ).load_and_set(config)
    who = f"the service account token {folder / 'token'}"
    return _from_configuration(config, who=who, now=now, expires=None, token_file=True)


def _load_kubeconfig(kubeconfig: str, context_name: str | None, now: datetime) -> Credentials:
    merged = KubeConfigMerger(kubeconfig)  # each path ~-expanded, missing ones skipped
    if merged.config is None:
        raise LoginError(f"no kubeconfig at {kubeconfig}")
    loader = KubeConfigLoader(
        config_dict=merged.config,
        active_context=context_name,
        config_base_path=None,  # relative paths are relative to each file, as kubectl reads them
        config_persister=merged.save_changes,  # a refreshed oidc/gcp token is written back
    )
    config = Configuration()
    loader.load_and_set(config)
    context = loader.current_context
    user_name = context["context"].get("user", "")
    entry = merged.config["users"].get_with_name(user_name, safe=True) if user_name else None
    user = (entry.value.get("user") or {}) if entry is not None else {}
    who = f"context {context['name']}, user {user_name}"
    if "exec" in user and not config.api_key.get("BearerToken") and not config.cert_file:
        # The loader logs the plugin's error and goes on without credentials.
        raise LoginError(f"the exec plugin of {who} gave no credentials (its error is above)")
    expires = getattr(loader, "expiry", None)  # an exec plugin's or auth-provider's end
    token_file = "tokenFile" in user and "token" not in user
    return _from_configuration(config, who=who, now=now, expires=expires, token_file=token_file)


def load(source: Source, now: datetime) -> Credentials:
    """Credentials from SOURCE, as of NOW (blocking: files, maybe a plugin's subprocess)."""
    try:
        if source.service_account is not None:
            return _load_service_account(source.service_account, source.service, now)
        return _load_kubeconfig(source.kubeconfig, source.context, now)
    except (ConfigException, OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as err:
        said = " ".join(str(err).split())  # a YAML error's marks span lines
        raise LoginError(f"cannot log in with {source.name}: {said}") from err


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Login:
    """The current credentials of one source (see the module's docstring)."""

    def __init__(
        self,
        source: Source,
        *,
        loader: Callable[[Source, datetime], Credentials] = load,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.source = source
        self.loads = 0  # how often credentials were loaded (shown in logs and tests)
        self._loader = loader
        self._clock = clock
        self._current: Credentials | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_environment(
        cls, *, kubeconfig: str | None = None, context: str | None = None
    ) -> Login:
        return cls(find_source(kubeconfig=kubeconfig, context=context, environ=os.environ))

    async def current(self) -> Credentials:
        """The credentials to send now (loaded first, or again when they are due)."""
        seen = self._current
        if seen is not None and not seen.stale(self._clock()):
            return seen
        async with self._lock:
            current = self._current
            if current is None or current is seen:  # nobody loaded them while this waited
                current = self._current = await self._load()
                log.debug("logged in as %s until %s", current.who, current.refresh_at)
            return current

    async def refused(self, credentials: Credentials, error: Unauthorized) -> Credentials:
        """The API server answered 401 to CREDENTIALS: the credentials to retry with.

        Raises ERROR when loading again brings the same identity (the credentials are dead,
        and retrying would loop) or no credentials at all.
        """
        async with self._lock:
            if self._current is not credentials and self._current is not None:
                return self._current  # another request has loaded new ones meanwhile
            try:
                fresh = await self._load()
            except LoginError as err:
                raise error from err
            if fresh.same_identity(credentials):
                raise error
            log.info("the API server refused the credentials of %s: logged in again", fresh.who)
            self._current = fresh
            return fresh

    async def _load(self) -> Credentials:
        self.loads += 1
        return await asyncio.to_thread(self._loader, self.source, self._clock())
