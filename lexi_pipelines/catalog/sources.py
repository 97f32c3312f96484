"""Reading registry, index and shard documents from local files or HTTP.

A *location* is a string: an absolute local path or an http(s) URL. Transport faults that may
pass (5xx, 429, timeouts) raise ``TransientSourceError`` so the caller's retry policy can act;
everything else raises ``CatalogInputError``.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import httpx

from lexi_pipelines.catalog.errors import CatalogInputError, TransientSourceError

DEFAULT_TIMEOUT_S = 30.0
USER_AGENT = "lexi-pipelines/0.1 (+catalog ingestion)"


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def resolve_location(directory: str, ref: str) -> str:
    """Resolve ``ref`` against a directory location (a folder path or a URL ending in ``/``)."""
    if is_url(ref):
        return ref
    if ref.startswith("file://"):
        return str(Path(url2pathname(urlsplit(ref).path)).resolve())
    if is_url(directory):
        return urljoin(directory if directory.endswith("/") else directory + "/", ref)
    return str((Path(directory) / ref).resolve())


def strip_query(url: str) -> str:
    """The URL without query, fragment or trailing slash: how variants point at their group."""
    # Plain string work: this runs for every product of a feed.
    return url.split("#", 1)[0].split("?", 1)[0].rstrip("/")


def parent_location(location: str) -> str:
    if is_url(location):
        return urljoin(location, "./")
    return str(Path(location).parent)


def is_within(directory: str, location: str) -> bool:
    """True when ``location`` lies inside ``directory`` (same origin for URLs)."""
    if is_url(directory) != is_url(location):
        return False
    if is_url(location):
        base, target = urlsplit(directory), urlsplit(location)
        base_path = posixpath.normpath(unquote(base.path)).rstrip("/") + "/"
        # Decode first: servers that decode before normalizing treat %2e%2e as "..".
        target_path = posixpath.normpath(unquote(target.path))
        return (base.scheme, base.netloc) == (target.scheme, target.netloc) and (
            target_path + "/"
        ).startswith(base_path)
    return Path(location).resolve().is_relative_to(Path(directory).resolve())


@dataclass(frozen=True)
class Document:
    location: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class SourceReader:
    """Fetches documents; one HTTP client (connection pool) per reader."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._client: httpx.Client | None = None

    def __enter__(self) -> SourceReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.timeout_s,
                follow_redirects=True,
                headers={"User-Agent": USER_AGENT},
            )
        return self._client

    def fetch(self, location: str) -> Document:
        if is_url(location):
            return Document(location, self._request("GET", location).content)
        try:
            return Document(location, Path(location).read_bytes())
        except FileNotFoundError as exc:
            raise CatalogInputError(location, "file not found") from exc
        except IsADirectoryError as exc:
            raise CatalogInputError(location, "is a directory, expected a JSON file") from exc
        except OSError as exc:
            raise CatalogInputError(location, f"cannot read file: {exc}") from exc

    def fingerprint(self, location: str) -> str:
        """A cheap change marker: mtime and size locally, validators or a hash over HTTP."""
        if not is_url(location):
            try:
                stat = os.stat(location)
            except FileNotFoundError:
                return "missing"
            return f"{stat.st_mtime_ns}:{stat.st_size}"
        try:
            response = self._request("HEAD", location)
        except CatalogInputError:
            # Some servers refuse HEAD (403/405); the content hash still tells a change.
            return self.fetch(location).sha256
        etag = response.headers.get("etag")
        modified = response.headers.get("last-modified")
        if etag or modified:
            return f"{etag or ''}|{modified or ''}"
        return self.fetch(location).sha256

    def _request(self, method: str, url: str) -> httpx.Response:
        try:
            response = self.client.request(method, url)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise TransientSourceError(f"{url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientSourceError(f"{url}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise CatalogInputError(url, f"HTTP {response.status_code}")
        return response
