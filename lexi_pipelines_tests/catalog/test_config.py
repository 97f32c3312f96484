"""Loading and validating ``ingestion.yaml``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from lexi_pipelines.catalog.config import IngestorConfig, load_ingestion_config
from lexi_pipelines.catalog.errors import IngestionConfigError
from lexi_pipelines.settings import DEMO_INGESTION_CONFIG

REPO_ROOT = Path(__file__).resolve().parents[2]
MISSING = object()
BRIGHTWAVE = "urn:cmp:orgid:ea6e0fa6-d215-5068-830b-84691939b9e5"
COPPERLINE = "urn:cmp:orgid:91f2582e-e07c-5b03-9230-082990916b06"


def entry(**fields: Any) -> dict[str, Any]:
    """A valid ``local`` ingestor entry; ``field=MISSING`` removes a field."""
    node: dict[str, Any] = {
        "name": "shop",
        "source_type": "local",
        "registry": "shop/registry.jsonld",
        "feed_path": "shop/feed.json",
        "schedule": "0 * * * *",
    }
    node.update(fields)
    return {key: value for key, value in node.items() if value is not MISSING}


def write_config(directory: Path, content: Any) -> Path:
    path = directory / "ingestion.yaml"
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path) -> str:
    with pytest.raises(IngestionConfigError) as raised:
        load_ingestion_config(path)
    message = str(raised.value)
    assert message.startswith(str(path))
    return message


# --- the demo file --------------------------------------------------------------------------


def test_demo_config_loads() -> None:
    config = load_ingestion_config(DEMO_INGESTION_CONFIG)

    assert config.path == DEMO_INGESTION_CONFIG
    assert config.names == ["acme-outdoor", "northwind-home", "mesh-market"]
    assert [i.source_type for i in config.ingestors] == ["local", "local", "cmp"]
    for ingestor in config.ingestors:
        assert Path(ingestor.registry).is_absolute()
        assert Path(ingestor.registry).is_file(), ingestor.registry
        if ingestor.source_type == "local":
            assert ingestor.feed_path is not None
            assert Path(ingestor.feed_path).is_absolute()
            assert Path(ingestor.feed_path).is_file(), ingestor.feed_path
        assert len(ingestor.schedule.split()) == 5

    acme = config.get("acme-outdoor")
    assert acme.registry == str(
        DEMO_INGESTION_CONFIG.parent / "acme-outdoor" / "brand-registry.jsonld"
    )
    assert acme.feed_path == str(DEMO_INGESTION_CONFIG.parent / "acme-outdoor/feed/feed.json")
    assert acme.organizations == ()
    assert acme.schedule == "0 */4 * * *"

    mesh = config.get("mesh-market")
    assert mesh.feed_path is None
    assert mesh.organizations == (BRIGHTWAVE, COPPERLINE)


def test_unknown_ingestor_name() -> None:
    config = load_ingestion_config(DEMO_INGESTION_CONFIG)

    with pytest.raises(KeyError, match=r"no ingestor named 'nope'.*acme-outdoor"):
        config.get("nope")


# --- valid variations -----------------------------------------------------------------------


def test_relative_paths_resolve_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)  # not the config's folder
    path = write_config(folder, {"ingestion": [entry(registry="../data/r.jsonld")]})

    (ingestor,) = load_ingestion_config(path).ingestors

    assert ingestor.registry == str(tmp_path / "data" / "r.jsonld")
    assert ingestor.feed_path == str(folder / "shop" / "feed.json")


def test_http_and_cmp_entries(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        {
            "ingestion": [
                entry(
                    name="remote",
                    source_type="http",
                    registry="https://shop.example/registry.jsonld",
                    feed_path="https://shop.example/feed/feed.json",
                ),
                entry(
                    name="mesh",
                    source_type="cmp",
                    feed_path=MISSING,
                    filter={"organization": f"  {BRIGHTWAVE} "},
                ),
            ]
        },
    )

    remote, mesh = load_ingestion_config(path).ingestors

    assert remote.registry == "https://shop.example/registry.jsonld"
    assert remote.feed_path == "https://shop.example/feed/feed.json"
    assert mesh.feed_path is None
    assert mesh.organizations == (BRIGHTWAVE,)


def test_utf8_bom_in_yaml(tmp_path: Path) -> None:
    path = tmp_path / "ingestion.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + yaml.safe_dump({"ingestion": [entry()]}).encode())

    assert load_ingestion_config(path).names == ["shop"]


def test_slug() -> None:
    ingestor = IngestorConfig(
        name="acme-outdoor.v2",
        source_type="local",
        registry="/r.jsonld",
        feed_path="/feed.json",
        organizations=(),
        schedule="0 * * * *",
    )

    assert ingestor.slug == "acme_outdoor_v2"
    assert load_ingestion_config(DEMO_INGESTION_CONFIG).get("mesh-market").slug == "mesh_market"


# --- invalid files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "fragments"),
    [
        pytest.param([entry(name=MISSING)], ["ingestion[0]: missing 'name'"], id="no-name"),
        pytest.param([entry(name="  ")], ["ingestion[0]: missing 'name'"], id="blank-name"),
        pytest.param(
            [entry(), entry(name="other"), entry()],
            ["duplicate ingestor names: shop"],
            id="duplicate-names",
        ),
        pytest.param(
            [entry(name="shop-a"), entry(name="shop.a")],
            ["differ only in punctuation", "shop-a", "shop.a"],
            id="slug-clash",
        ),
        pytest.param(
            [entry(name="my shop!")],
            ["ingestion[0] (name 'my shop!')", "name must match"],
            id="bad-name-characters",
        ),
        pytest.param(
            [entry(schedule="61 * * * *")],
            ["ingestion[0] (name 'shop')", "schedule '61 * * * *'", "5-field cron"],
            id="cron-minute-61",
        ),
        pytest.param(
            [entry(schedule="every day")],
            ["ingestion[0] (name 'shop')", "schedule 'every day'", "5-field cron"],
            id="cron-words",
        ),
        pytest.param(
            [entry(schedule="0 0 * * * *")],
            ["ingestion[0] (name 'shop')", "schedule '0 0 * * * *'", "5-field cron"],
            id="cron-six-fields",
        ),
        pytest.param(
            [entry(schedule=MISSING)],
            ["ingestion[0] (name 'shop')", "schedule None"],
            id="no-schedule",
        ),
        pytest.param(
            [entry(source_type="ftp")],
            ["ingestion[0] (name 'shop')", "unknown source_type 'ftp'", "local, http, cmp"],
            id="unknown-source-type",
        ),
        pytest.param(
            [entry(source_type=MISSING)],
            ["ingestion[0] (name 'shop')", "unknown source_type None"],
            id="no-source-type",
        ),
        pytest.param(
            [entry(registry=MISSING)],
            ["ingestion[0] (name 'shop')", "missing 'registry'"],
            id="no-registry",
        ),
        pytest.param(
            [entry(registry="")],
            ["ingestion[0] (name 'shop')", "missing 'registry'"],
            id="empty-registry",
        ),
        pytest.param(
            [entry(feed_path=MISSING)],
            ["ingestion[0] (name 'shop')", "source_type 'local' needs 'feed_path'"],
            id="local-without-feed-path",
        ),
        pytest.param(
            [entry(source_type="http")],
            [
                "ingestion[0] (name 'shop')",
                "registry must be an http(s) URL",
                "feed_path must be an http(s) URL",
            ],
            id="http-with-local-paths",
        ),
        pytest.param(
            [entry(source_type="http", feed_path=MISSING, registry="https://x.example/r")],
            ["source_type 'http' needs 'feed_path'"],
            id="http-without-feed-path",
        ),
        pytest.param(
            [entry(filter=["urn:cmp:orgid:x"])],
            ["ingestion[0] (name 'shop')", "'filter' must be a mapping"],
            id="filter-not-a-mapping",
        ),
        pytest.param(
            [entry(filter={"organization": {"urn": "x"}})],
            ["ingestion[0] (name 'shop')", "filter.organization must be a list of URNs"],
            id="filter-organization-not-a-list",
        ),
        pytest.param(
            [entry(), "just a string"],
            ["ingestion[1]: expected a mapping, got str"],
            id="entry-not-a-mapping",
        ),
    ],
)
def test_invalid_entries(tmp_path: Path, entries: list[Any], fragments: list[str]) -> None:
    message = config_error(write_config(tmp_path, {"ingestion": entries}))

    assert "invalid ingestion config" in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("- a\n- b\n", "expected a mapping with a list under 'ingestion:'", id="list"),
        pytest.param("just text\n", "expected a mapping with a list under 'ingestion:'", id="str"),
        pytest.param("", "expected a mapping with a list under 'ingestion:'", id="empty-file"),
        pytest.param(
            "ingestors:\n  - name: x\n",
            "expected a mapping with a list under 'ingestion:'",
            id="no-ingestion-key",
        ),
        pytest.param(
            "ingestion:\n  name: x\n",
            "expected a mapping with a list under 'ingestion:'",
            id="ingestion-not-a-list",
        ),
        pytest.param("ingestion: [\n  - name: x\n", "not valid YAML", id="invalid-yaml"),
        pytest.param("ingestion:\n\t- name: x\n", "not valid YAML", id="tab-indent"),
    ],
)
def test_invalid_files(tmp_path: Path, text: str, fragment: str) -> None:
    assert fragment in config_error(write_config(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    assert "cannot read ingestion config" in config_error(tmp_path / "absent.yaml")


def test_all_problems_in_one_message(tmp_path: Path) -> None:
    entries = [
        entry(name=MISSING),
        entry(name="b", schedule="61 * * * *"),
        entry(name="c", source_type="ftp"),
        entry(name="d"),
        entry(name="d"),
        entry(name="e", source_type="http"),
    ]
    message = config_error(write_config(tmp_path, {"ingestion": entries}))

    expected = [
        "ingestion[0]: missing 'name'",
        "ingestion[1] (name 'b'): schedule '61 * * * *'",
        "ingestion[2] (name 'c'): unknown source_type 'ftp'",
        "duplicate ingestor names: d",
        "ingestion[5] (name 'e'): registry must be an http(s) URL",
        "ingestion[5] (name 'e'): feed_path must be an http(s) URL",
    ]
    for fragment in expected:
        assert fragment in message
    assert message.count("\n  - ") == len(expected)


def test_definitions_fail_to_load_with_a_bad_config(tmp_path: Path) -> None:
    entries = [entry(), entry(), entry(name="late", schedule="61 * * * *")]
    bad = write_config(tmp_path, {"ingestion": entries})
    env = {
        **os.environ,
        "LEXI_INGESTION_CONFIG": str(bad),
        "LEXI_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
    }

    result = subprocess.run(
        [sys.executable, "-c", "import lexi_pipelines.definitions"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert "IngestionConfigError" in result.stderr
    assert str(bad) in result.stderr
    assert "duplicate ingestor names: shop" in result.stderr
    assert "ingestion[2] (name 'late'): schedule '61 * * * *'" in result.stderr
