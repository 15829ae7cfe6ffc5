"""Signing keys of one token issuer: pyjwt's ``PyJWKClient`` with a configurable source and
fail-closed, rate-limited refreshes.

The source is a JWKS URL (fetched by ``PyJWKClient`` itself, no redirects), a file, inline JSON
or a mapping (local Cognito from moto, tests), or any function returning a JWKS. On top of
``PyJWKClient``'s cache:

- a URL fetch is bounded: the verifier stops waiting for it after ``timeout`` seconds
  (:data:`DEFAULT_TIMEOUT`, 3 s; ``MODELAUTH_JWKS_TIMEOUT`` for the authorizer), DNS, connect and a
  response that trickles in included - urllib's own timeout only bounds each socket operation.
  The fetch runs on a daemon thread; while one is still running no second one starts, and a late
  answer still fills the cache;
- an unknown ``kid`` triggers one refetch, and once a key set has been fetched, fetches
  (successful or not) are at least ``refresh_cooldown`` seconds apart, so tokens with random
  ``kid`` values can't hammer the IdP; until then each verification that needs a key tries (so a
  cold start during an outage recovers as soon as the IdP does);
- when a fetch fails, the last key set that was fetched successfully keeps verifying (a JWKS
  outage does not lock every user out); with no such set the issuer fails closed
  (:class:`JwksUnavailable`), and so does a ``kid`` that set lacks while the IdP is unreachable:
  both denials are transient (AppSync answers them with ``ttlOverride: 0``, so they are not
  replayed from its cache once the IdP is back).

Example::

    >>> keys = KeySet({"keys": []})
    >>> keys.get_signing_key("k1")
    Traceback (most recent call last):
    ...
    modelauth.jwks.JwksUnavailable: no usable JWKS for inline JWKS
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from jwt import PyJWK, PyJWKClient, PyJWKClientError, PyJWKSet, PyJWTError

from modelauth.errors import Unauthenticated

__all__ = ["DEFAULT_TIMEOUT", "JwksLoader", "JwksSource", "JwksUnavailable", "KeySet", "UnknownSigningKey"]

logger = Logger(service="modelauth")

JwksLoader = Callable[[], Mapping[str, Any]]
#: ``https://…`` / ``http://…`` URL, ``file://…`` or a path, inline JSON (``{"keys": …}``), a
#: mapping, or a loader function
JwksSource = str | Path | Mapping[str, Any] | JwksLoader

# PyJWKClient wants an http(s) URI; with another source fetch_data() never uses it.
_UNUSED_URI = "https://jwks.invalid/not-fetched"
#: seconds a verifier waits for a JWKS URL (AppSync gives the whole authorizer 10 s)
DEFAULT_TIMEOUT = 3.0


class JwksUnavailable(Unauthenticated):
    """No key set could be fetched and none is cached: deny (transient, don't cache the denial)."""

    transient = True


class UnknownSigningKey(PyJWKClientError):
    """The token's ``kid`` is not in the issuer's key set, even after a refetch."""


class _Fetch:
    """One JWKS fetch on a daemon thread, so that a caller can stop waiting for it."""

    def __init__(self, fetch: Callable[[], Any]) -> None:
        self._done = threading.Event()
        self._result: Any = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, args=(fetch,), name="jwks-fetch", daemon=True).start()

    def _run(self, fetch: Callable[[], Any]) -> None:
        try:
            self._result = fetch()
        except BaseException as exc:  # handed to whoever waits for the result
            self._error = exc
        finally:
            self._done.set()

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def result(self, timeout: float) -> Any:
        if not self._done.wait(timeout):
            raise TimeoutError(f"no answer within {timeout:g} s")
        if self._error is not None:
            raise self._error
        return self._result


def _is_url(source: JwksSource) -> bool:
    return isinstance(source, str) and source.lower().startswith(("https://", "http://"))


def _loader(source: JwksSource) -> tuple[JwksLoader, str]:
    """A function returning the JWKS for a non-URL source, and a label for logs."""
    if callable(source):
        return source, getattr(source, "__name__", "JWKS loader")
    if isinstance(source, Mapping):
        data = dict(source)
        return (lambda: data), "inline JWKS"
    text = str(source).strip()
    if text.startswith("{"):
        parsed = json.loads(text)  # a broken inline JWKS is a configuration error: fail at start-up
        return (lambda: parsed), "inline JWKS"
    path = Path(text.removeprefix("file://"))
    return (lambda: json.loads(path.read_text())), f"JWKS file {path}"


class KeySet(PyJWKClient):
    """The signing keys of one issuer, cached; see the module docstring for the rules."""

    def __init__(
        self,
        source: JwksSource,
        *,
        lifespan: float = 300.0,
        refresh_cooldown: float = 30.0,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < timeout <= 60:  # NaN fails too
            raise ValueError(f"the JWKS timeout must be 0 < timeout <= 60 seconds, got {timeout!r}")
        url = str(source) if _is_url(source) else None
        super().__init__(
            url or _UNUSED_URI, cache_keys=False, cache_jwk_set=True, lifespan=lifespan, timeout=timeout
        )
        self._load: JwksLoader | None = None
        self.label = url or "JWKS"
        if url is None:
            self._load, self.label = _loader(source)
        self._refresh_cooldown = refresh_cooldown
        self._clock = clock
        self._last_attempt: float | None = None
        self._last_good: Any = None
        self._last_failed = False
        self._fetch: _Fetch | None = None
        self._lock = threading.Lock()

    def fetch_data(self) -> Any:
        """The JWKS from the source; the last good one while fetches fail or are rate-limited."""
        now = self._clock()
        if (
            self._last_good is not None
            and self._last_attempt is not None
            and now - self._last_attempt < self._refresh_cooldown
        ):
            return self._last_good
        self._last_attempt = now
        try:
            data = self._fetch_url() if self._load is None else self._load_source()
        except (PyJWTError, OSError, ValueError) as exc:  # connection, HTTP, JSON, no usable keys, time
            self._last_failed = True
            if self._last_good is None:
                raise JwksUnavailable(
                    f"no usable JWKS for {self.label}", reason=f"JWKS fetch failed: {exc}"
                ) from exc
            logger.warning(
                "JWKS fetch failed; verifying with the last good key set", extra={"jwks": self.label}
            )
            return self._last_good
        self._last_good, self._last_failed = data, False
        return data

    def _fetch_url(self) -> Any:
        """PyJWKClient's fetch, waited for at most ``timeout`` seconds in all."""
        if self._fetch is None or not self._fetch.running:
            self._fetch = _Fetch(super().fetch_data)
        return self._fetch.result(self.timeout)

    def _load_source(self) -> PyJWKSet:
        assert self._load is not None
        data = self._load()
        if not isinstance(data, Mapping):
            raise ValueError(f"{self.label} is not a JSON object")
        return PyJWKSet.from_dict(dict(data))  # raises when no key is usable; the caller caches it

    def get_signing_key(self, kid: str) -> PyJWK:
        """The key with this ``kid``; one (rate-limited) refetch when it is not in the cached set."""
        with self._lock:
            key = self.match_kid(self.get_signing_keys(), kid)
            if key is None:
                key = self.match_kid(self.get_signing_keys(refresh=True), kid)
        if key is None and self._last_failed:  # perhaps a new key we could not fetch: transient
            raise JwksUnavailable(
                f"no signing key with kid {kid!r} in {self.label}",
                reason=f"no signing key with kid {kid!r} in {self.label}, which is unreachable",
            )
        if key is None:
            raise UnknownSigningKey(f"no signing key with kid {kid!r} in {self.label}")
        return key
