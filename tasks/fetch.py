"""The web edge: every HTTP request newsner makes goes through `fetch_all`.

Bounded on every side: an explicit timeout, retries with doubling backoff only on 5xx answers,
timeouts and dropped connections, a redirect limit, a body cap, a content-type check, a cap on
requests at once, an honest User-Agent, http(s) only, conditional requests (ETag and
Last-Modified, so an unchanged feed costs one 304), and no address on this machine or a private
network unless the user allows it: the check is made on the address actually connected to, at
every redirect hop, so no DNS answer or redirect gets past it.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpcore
import httpx

from tasks.reasons import reject

USER_AGENT = "newsner/0.1 (open news-entity pipeline; +https://pypi.org/project/newsner/)"
HTML_TYPES = {"text/html", "application/xhtml+xml"}
FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml",
              "application/xml", "text/xml", "application/x-rss+xml"}
TEXT_TYPES = {"text/plain"}


@dataclass(frozen=True)
class FetchPolicy:
    """How the pipeline talks to web servers."""

    timeout: float = 10.0
    retries: int = 2              # extra attempts after a 5xx, a timeout or a dropped connection
    backoff: float = 0.5          # seconds before the first retry; doubles each time
    max_redirects: int = 5
    max_bytes: int = 5_000_000
    concurrency: int = 4
    user_agent: str = USER_AGENT
    allow_private_network: bool = False  # loopback, private, link-local, reserved addresses


@dataclass(frozen=True)
class Request:
    """One URL to fetch, with the validators of the copy already read (if any)."""

    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    """One fetched URL: the body and its type, a 304, or the reject that explains the failure."""

    url: str
    final_url: str | None = None
    content_type: str | None = None
    body: bytes | None = None
    failure: dict | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime | None = None


class BlockedAddress(Exception):
    """A URL's host resolves to an address newsner does not fetch from."""


def is_url(value: str) -> bool:
    """Return True when `value` looks like a URL (scheme://...) rather than a path."""
    head, sep, _ = value.partition("://")
    return bool(sep) and head[:1].isalpha() and all(c.isalnum() or c in "+.-" for c in head)


def domain(url: str | None) -> str | None:
    """Return the host of `url` without a leading www., or None."""
    host = urlsplit(url).hostname if url else None
    return host[4:] if host and host.startswith("www.") else host


def public(address: str) -> bool:
    """Return True for a globally routable address (not loopback, private, link-local,
    multicast, reserved or unspecified)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class GuardedBackend(httpcore.SyncBackend):
    """Resolve a host once, refuse it unless every address is public, connect to that address."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as err:
            raise httpcore.ConnectError(f"cannot resolve {host}: {err}") from None
        addresses = [info[4][0] for info in infos]
        if not addresses or not all(public(a) for a in addresses):
            raise BlockedAddress(f"{host} resolves to {', '.join(sorted(set(addresses)))}, "
                                 "an address on this machine or a private network")
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


def _failed(url: str, reason: str, detail: str) -> Fetched:
    return Fetched(url=url, failure=reject(url, reason, f"{url}: {detail}", external_id=url))


def _read_capped(response: httpx.Response, max_bytes: int) -> bytes | None:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def fetch(client: httpx.Client, request: Request, policy: FetchPolicy) -> Fetched:
    """Fetch one URL under `policy`; retries only 5xx answers, timeouts and dropped connections."""
    url = request.url
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return _failed(url, "bad_url", "only http and https URLs are fetched")
    headers = {k: v for k, v in (("If-None-Match", request.etag),
                                 ("If-Modified-Since", request.last_modified)) if v}
    delay = policy.backoff
    for attempt in range(policy.retries + 1):
        last = attempt == policy.retries
        try:
            with client.stream("GET", url, headers=headers) as response:
                if response.status_code >= 500 and not last:
                    time.sleep(delay)
                    delay *= 2
                    continue
                validators = {"etag": response.headers.get("etag"),
                              "last_modified": response.headers.get("last-modified")}
                if response.status_code == 304:
                    return Fetched(url=url, final_url=str(response.url), not_modified=True,
                                   fetched_at=_now(), **{k: v or getattr(request, k)
                                                          for k, v in validators.items()})
                if response.status_code >= 400:
                    return _failed(url, "http_error", f"HTTP {response.status_code}")
                content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if content_type and content_type not in HTML_TYPES | FEED_TYPES | TEXT_TYPES:
                    return _failed(url, "bad_content_type", f"content type {content_type!r}")
                body = _read_capped(response, policy.max_bytes)
                if body is None:
                    return _failed(url, "too_large", f"body over {policy.max_bytes:,} bytes")
                return Fetched(url=url, final_url=str(response.url), content_type=content_type,
                               body=body, fetched_at=_now(), **validators)
        except BlockedAddress as err:
            return _failed(url, "blocked_address", f"{err}; --allow-private-network fetches it")
        except httpx.TooManyRedirects:
            return _failed(url, "too_many_redirects", f"more than {policy.max_redirects} redirects")
        except httpx.UnsupportedProtocol as err:
            return _failed(url, "bad_url", str(err))
        except httpx.TimeoutException:
            if last:
                return _failed(url, "timeout", f"no answer within {policy.timeout:g} s "
                               f"({policy.retries + 1} attempts)")
        except httpx.TransportError as err:
            if last:
                return _failed(url, "network", f"{type(err).__name__}: {err}")
        time.sleep(delay)
        delay *= 2
    return _failed(url, "http_error", "server error on every attempt")


def client_for(policy: FetchPolicy) -> httpx.Client:
    """Return an HTTP client that applies `policy` to every request and redirect hop."""
    transport = httpx.HTTPTransport()
    if not policy.allow_private_network:
        transport._pool._network_backend = GuardedBackend()  # httpx offers no public hook
    return httpx.Client(transport=transport, timeout=policy.timeout, follow_redirects=True,
                        max_redirects=policy.max_redirects, trust_env=False,
                        headers={"User-Agent": policy.user_agent})


def fetch_all(requests: list[Request], policy: FetchPolicy) -> list[Fetched]:
    """Fetch `requests` concurrently (at most policy.concurrency at once), in input order."""
    if not requests:
        return []
    with client_for(policy) as client, ThreadPoolExecutor(max_workers=policy.concurrency) as pool:
        return list(pool.map(lambda r: fetch(client, r, policy), requests))
