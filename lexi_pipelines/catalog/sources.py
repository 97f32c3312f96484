"""Reading registry, index and shard documents from local files or HTTP.

A *location* is a string: an absolute local path or an http(s) URL. Transport faults that may
pass (5xx, 429, timeouts) raise ``TransientSourceError`` so the caller's retry policy can act;
everything else raises ``CatalogInputError``.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from lexi_pipelines.catalog.errors import CatalogInputError, TransientSourceError
from lexi_pipelines.catalog.locations import Document, is_url

DEFAULT_TIMEOUT_S = 30.0
USER_AGENT = "lexi-pipelines/0.1 (+catalog ingestion)"


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
