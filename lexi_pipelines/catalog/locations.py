"""Locations of catalog documents: local paths or http(s) URLs, and the bytes read from them.

Pure and light (no HTTP client) so that parse workers import it quickly.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname


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

    @cached_property
    def sha256(self) -> str:  # read twice per ingest; shards are megabytes
        return hashlib.sha256(self.content).hexdigest()
