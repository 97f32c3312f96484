"""Locations, the source reader (local files and loopback HTTP) and small pure helpers."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lexi_pipelines.catalog.config import IngestorConfig
from lexi_pipelines.catalog.errors import CatalogInputError, TransientSourceError
from lexi_pipelines.catalog.feed import list_shards
from lexi_pipelines.catalog.locations import (
    Document,
    is_url,
    is_within,
    parent_location,
    resolve_location,
    strip_query,
)
from lexi_pipelines.catalog.naming import category_rows, name_key, slugify, synthetic_brand_urn
from lexi_pipelines.catalog.sources import SourceReader
from lexi_pipelines_tests.catalog.loopback import LoopbackServer, Route

OK_BODY = b'{"@type": "ItemList", "itemListElement": []}'
ORG = "urn:cmp:orgid:9b1aa0e1-3a4d-5090-973b-d8d1a738c25c"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")


# --- locations ------------------------------------------------------------------------------


def test_is_url() -> None:
    assert is_url("http://shop.example/feed.json")
    assert is_url("https://shop.example/feed.json")
    assert not is_url("/srv/feeds/feed.json")
    assert not is_url("file:///srv/feeds/feed.json")
    assert not is_url("ftp://shop.example/feed.json")


def test_resolve_location_local(tmp_path: Path) -> None:
    base = str(tmp_path / "feeds")

    assert resolve_location(base, "feed-000.json") == str(tmp_path / "feeds" / "feed-000.json")
    assert resolve_location(base, "a/b/../c.json") == str(tmp_path / "feeds" / "a" / "c.json")
    assert resolve_location(base, "../other.json") == str(tmp_path / "other.json")
    assert resolve_location(base, str(tmp_path / "abs.json")) == str(tmp_path / "abs.json")
    assert resolve_location(base, f"file://{tmp_path}/x.json") == str(tmp_path / "x.json")
    assert resolve_location(base, "https://cdn.example/x.json") == "https://cdn.example/x.json"


def test_resolve_location_url() -> None:
    assert resolve_location("https://h.example/feeds/", "feed-000.json") == (
        "https://h.example/feeds/feed-000.json"
    )
    # A directory location without the trailing slash is still a directory.
    assert resolve_location("https://h.example/feeds", "feed-000.json") == (
        "https://h.example/feeds/feed-000.json"
    )
    assert resolve_location("https://h.example/a/b/", "../x.json") == "https://h.example/a/x.json"
    assert resolve_location("https://h.example/a/b/", "/root.json") == "https://h.example/root.json"
    assert resolve_location("https://h.example/a/", "https://cdn.example/x.json") == (
        "https://cdn.example/x.json"
    )


def test_parent_location() -> None:
    assert parent_location("/srv/feeds/shop/feed.json") == "/srv/feeds/shop"
    assert parent_location("https://h.example/a/b/feed.json?sig=1#x") == "https://h.example/a/b/"
    assert parent_location("https://h.example/a/") == "https://h.example/a/"


def test_parent_location_at_host_root() -> None:
    base = parent_location("https://h.example/feed.json")

    assert base == "https://h.example/"
    assert is_within(base, resolve_location(base, "feed-000.json"))


def test_is_within_local(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    (feeds / "sub").mkdir(parents=True)
    directory = str(feeds)

    assert is_within(directory, str(feeds / "feed-000.json"))
    assert is_within(directory, str(feeds / "sub" / "feed-000.json"))
    assert is_within(directory, str(feeds / "sub" / ".." / "feed-000.json"))
    assert is_within(directory, directory)
    assert not is_within(directory, str(feeds / ".." / "secret.json"))
    assert not is_within(directory, str(feeds / "sub" / ".." / ".." / "secret.json"))
    assert not is_within(directory, str(tmp_path / "feeds-other" / "x.json"))  # name prefix
    assert not is_within(directory, "/etc/passwd")
    assert not is_within(directory, "https://h.example/feeds/x.json")


def test_is_within_url() -> None:
    base = "https://h.example/feeds/shop/"

    assert is_within(base, "https://h.example/feeds/shop/feed-000.json")
    assert is_within(base, "https://h.example/feeds/shop/2026/feed-000.json?sig=abc")
    assert is_within("https://h.example/feeds/shop", "https://h.example/feeds/shop/x.json")
    assert not is_within(base, "https://other.example/feeds/shop/feed-000.json")
    assert not is_within(base, "http://h.example/feeds/shop/feed-000.json")  # other scheme
    assert not is_within(base, "https://h.example:8443/feeds/shop/feed-000.json")  # other port
    assert not is_within(base, "https://h.example/feeds/shop/../other/feed.json")
    assert not is_within(base, "https://h.example/feeds/shop-other/feed.json")  # name prefix
    assert not is_within(base, "https://h.example/feeds/")
    assert not is_within(base, "/feeds/shop/feed-000.json")
    # What resolve_location produces for an escaping reference is caught too.
    assert not is_within(base, resolve_location(base, "../../secret.json"))


def test_is_within_url_rejects_percent_encoded_dot_segments() -> None:
    base = "https://h.example/feeds/shop/"
    escaping = resolve_location(base, "%2e%2e/%2E%2E/secret.json")

    assert not is_within(base, escaping)


# --- reading local files --------------------------------------------------------------------


def test_fetch_local_file(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_bytes(OK_BODY)

    with SourceReader() as reader:
        document = reader.fetch(str(path))

    assert document == Document(str(path), OK_BODY)
    assert document.sha256 == hashlib.sha256(OK_BODY).hexdigest()


def test_fetch_missing_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope" / "feed.json")

    with pytest.raises(CatalogInputError) as raised:
        SourceReader().fetch(missing)

    assert raised.value.source == missing
    assert str(raised.value) == f"{missing}: file not found"


def test_fetch_directory(tmp_path: Path) -> None:
    with pytest.raises(CatalogInputError, match="is a directory") as raised:
        SourceReader().fetch(str(tmp_path))

    assert raised.value.source == str(tmp_path)


def test_fingerprint_of_local_file(tmp_path: Path) -> None:
    path = tmp_path / "feed-000.json"
    path.write_bytes(OK_BODY)
    reader = SourceReader()

    first = reader.fingerprint(str(path))
    assert reader.fingerprint(str(path)) == first

    path.write_bytes(OK_BODY + b"\n ")
    assert reader.fingerprint(str(path)) != first

    path.unlink()
    assert reader.fingerprint(str(path)) == "missing"


# --- reading over HTTP (loopback only) ------------------------------------------------------


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with LoopbackServer() as loopback:
        loopback.routes.update(
            {
                "/ok.json": Route(200, OK_BODY, {"ETag": '"v1"'}),
                "/dated.json": Route(
                    200, OK_BODY, {"Last-Modified": "Sun, 01 Mar 2026 05:30:00 GMT"}
                ),
                "/plain.json": Route(200, OK_BODY),
                "/moved": Route(301, b"", {"Location": "/ok.json"}),
                "/flaky": Route(503, b"try later"),
                "/ratelimited": Route(429, b"slow down", {"Retry-After": "1"}),
                "/missing": Route(404, b"not found"),
                "/forbidden": Route(403, b"no"),
                "/slow": Route(stall=True),
            }
        )
        yield loopback


@pytest.fixture
def reader() -> Iterator[SourceReader]:
    with SourceReader(timeout_s=0.5) as source_reader:
        yield source_reader


def test_http_fetch(server: LoopbackServer, reader: SourceReader) -> None:
    url = server.url("/ok.json?sig=abc")

    assert reader.fetch(url) == Document(url, OK_BODY)


def test_http_fetch_follows_redirects(server: LoopbackServer, reader: SourceReader) -> None:
    assert reader.fetch(server.url("/moved")).content == OK_BODY


@pytest.mark.parametrize(("path", "status"), [("/flaky", 503), ("/ratelimited", 429)])
def test_http_transient_status(
    server: LoopbackServer, reader: SourceReader, path: str, status: int
) -> None:
    url = server.url(path)

    with pytest.raises(TransientSourceError) as raised:
        reader.fetch(url)

    assert str(raised.value) == f"{url}: HTTP {status}"


@pytest.mark.parametrize(("path", "status"), [("/missing", 404), ("/forbidden", 403)])
def test_http_client_error_is_input_error(
    server: LoopbackServer, reader: SourceReader, path: str, status: int
) -> None:
    url = server.url(path)

    with pytest.raises(CatalogInputError) as raised:
        reader.fetch(url)

    assert raised.value.source == url
    assert str(raised.value) == f"{url}: HTTP {status}"


def test_http_timeout_is_transient(server: LoopbackServer, reader: SourceReader) -> None:
    started = time.monotonic()

    with pytest.raises(TransientSourceError, match="Timeout") as raised:
        reader.fetch(server.url("/slow"))

    assert server.url("/slow") in str(raised.value)
    assert time.monotonic() - started < 5


def test_http_connection_refused_is_transient(reader: SourceReader) -> None:
    # A bound socket that does not listen refuses connections.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(TransientSourceError, match="ConnectError"):
            reader.fetch(f"http://127.0.0.1:{port}/feed.json")


def test_http_fingerprint_uses_validators(server: LoopbackServer, reader: SourceReader) -> None:
    assert reader.fingerprint(server.url("/ok.json")) == '"v1"|'
    assert server.requests == [("HEAD", "/ok.json")]  # no download

    assert reader.fingerprint(server.url("/dated.json")) == "|Sun, 01 Mar 2026 05:30:00 GMT"

    server.routes["/ok.json"].headers["ETag"] = '"v2"'
    assert reader.fingerprint(server.url("/ok.json")) == '"v2"|'


def test_http_fingerprint_without_validators_hashes_content(
    server: LoopbackServer, reader: SourceReader
) -> None:
    url = server.url("/plain.json")

    assert reader.fingerprint(url) == hashlib.sha256(OK_BODY).hexdigest()
    assert server.requests == [("HEAD", "/plain.json"), ("GET", "/plain.json")]

    server.routes["/plain.json"].body = OK_BODY + b" "
    assert reader.fingerprint(url) == hashlib.sha256(OK_BODY + b" ").hexdigest()


def test_http_fingerprint_falls_back_to_content_when_head_is_refused(
    server: LoopbackServer, reader: SourceReader
) -> None:
    server.routes["/nohead.json"] = Route(200, OK_BODY, head_status=405)
    assert reader.fingerprint(server.url("/nohead.json")) == hashlib.sha256(OK_BODY).hexdigest()
    assert server.requests == [("HEAD", "/nohead.json"), ("GET", "/nohead.json")]


def test_http_fingerprint_errors(server: LoopbackServer, reader: SourceReader) -> None:
    with pytest.raises(TransientSourceError):
        reader.fingerprint(server.url("/flaky"))
    with pytest.raises(CatalogInputError):
        reader.fingerprint(server.url("/missing"))


def http_ingestor(feed_path: str) -> IngestorConfig:
    return IngestorConfig(
        name="remote",
        source_type="http",
        registry=feed_path.rsplit("/", 1)[0] + "/registry.jsonld",
        feed_path=feed_path,
        organizations=(),
        schedule="0 * * * *",
    )


def index_body(*shard_urls: str) -> bytes:
    shards = ",".join(f'{{"url": "{url}"}}' for url in shard_urls)
    return f'{{"@type": "ProductFeedIndex", "orgid": "{ORG}", "shards": [{shards}]}}'.encode()


def test_list_shards_over_http(server: LoopbackServer, reader: SourceReader) -> None:
    server.routes["/feeds/shop/feed.json"] = Route(200, index_body("feed-000.json", "2026/b.json"))
    index = server.url("/feeds/shop/feed.json")

    shards, new_orgs = list_shards(http_ingestor(index), reader, [(None, index)], {ORG})

    assert [s.location for s in shards] == [
        server.url("/feeds/shop/feed-000.json"),
        server.url("/feeds/shop/2026/b.json"),
    ]
    assert {s.organization_urn for s in shards} == {ORG}
    assert new_orgs == {}


def test_list_shards_rejects_escaping_shard(server: LoopbackServer, reader: SourceReader) -> None:
    server.routes["/feeds/shop/feed.json"] = Route(200, index_body("feed-000.json", "../x.json"))
    index = server.url("/feeds/shop/feed.json")

    with pytest.raises(CatalogInputError) as raised:
        list_shards(http_ingestor(index), reader, [(None, index)], {ORG})

    assert str(raised.value).startswith(f"{index}: index 1: field 'shards[1].url': ")
    assert "escapes the feed's folder" in str(raised.value)


def test_list_shards_of_feed_at_host_root(server: LoopbackServer, reader: SourceReader) -> None:
    server.routes["/feed.json"] = Route(200, index_body("feed-000.json"))
    index = server.url("/feed.json")

    shards, _ = list_shards(http_ingestor(index), reader, [(None, index)], {ORG})

    assert [s.location for s in shards] == [server.url("/feed-000.json")]


# --- small pure helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://h.example/feeds/feed-000.json?sig=abc&exp=1",
            "https://h.example/feeds/feed-000.json",
        ),
        ("https://h.example/feeds/feed.json#top", "https://h.example/feeds/feed.json"),
        ("https://h.example/feeds/", "https://h.example/feeds"),
        ("https://h.example/feeds/feed.json", "https://h.example/feeds/feed.json"),
        ("/srv/feeds/feed.json", "/srv/feeds/feed.json"),
    ],
)
def test_strip_query(url: str, expected: str) -> None:
    assert strip_query(url) == expected


def test_category_rows() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)

    rows = category_rows("Outdoor > Tents > Backpacking", now)

    assert [(r["id"], r["name"], r["path"], r["parent_id"]) for r in rows] == [
        ("outdoor", "Outdoor", "Outdoor", None),
        ("outdoor/tents", "Tents", "Outdoor > Tents", "outdoor"),
        (
            "outdoor/tents/backpacking",
            "Backpacking",
            "Outdoor > Tents > Backpacking",
            "outdoor/tents",
        ),
    ]
    assert all(r["created_at"] == now for r in rows)


def test_category_rows_variants() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)

    assert [r["id"] for r in category_rows(" Home & Garden >  Grills / BBQ ", now)] == [
        "home-garden",
        "home-garden/grills",
        "home-garden/grills/bbq",
    ]
    assert [r["id"] for r in category_rows("> Audio >", now)] == ["audio"]
    assert category_rows("  ", now) == []


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Outdoor", "outdoor"),
        ("Hearth & Loom", "hearth-loom"),
        ("  Rain Jackets!  ", "rain-jackets"),
        ("digital-services", "digital-services"),
        ("Café Crème", "caf-cr-me"),
        ("---", "unnamed"),
        ("", "unnamed"),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_name_key() -> None:
    assert name_key("  Hearth   &\tLoom ") == "hearth & loom"
    assert name_key("EMBER Cast") == name_key("ember  cast")


def test_synthetic_brand_urn() -> None:
    org = "urn:cmp:orgid:22d97c23-8817-5628-8e5a-33493323ba92"

    urn = synthetic_brand_urn(org, "Hearth & Loom")

    assert urn == "urn:lexi:brand:22d97c23-8817-5628-8e5a-33493323ba92:hearth-loom"
    assert synthetic_brand_urn(org, "Hearth & Loom") == urn
    assert synthetic_brand_urn(org, "  hearth  &  loom ") == urn
    assert synthetic_brand_urn(org, "Other") != urn
    assert synthetic_brand_urn("urn:cmp:orgid:other", "Hearth & Loom") != urn
