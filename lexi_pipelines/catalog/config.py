"""Loading and validating ``ingestion.yaml`` (the seed's format)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from croniter import croniter

from lexi_pipelines.catalog.errors import IngestionConfigError
from lexi_pipelines.catalog.locations import is_url, resolve_location

SourceType = Literal["local", "http", "cmp"]
SOURCE_TYPES: tuple[str, ...] = ("local", "http", "cmp")
# Ingestor names become partition keys, schedule names and run tags.
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class IngestorConfig:
    name: str
    source_type: SourceType
    registry: str
    feed_path: str | None
    organizations: tuple[str, ...]
    schedule: str

    @property
    def slug(self) -> str:
        """The name in the character set Dagster allows for schedule names."""
        return re.sub(r"[^A-Za-z0-9_]", "_", self.name)


@dataclass(frozen=True)
class IngestionConfig:
    path: Path
    ingestors: tuple[IngestorConfig, ...]

    @property
    def names(self) -> list[str]:
        return [ingestor.name for ingestor in self.ingestors]

    def get(self, name: str) -> IngestorConfig:
        for ingestor in self.ingestors:
            if ingestor.name == name:
                return ingestor
        raise KeyError(f"{self.path}: no ingestor named '{name}' (known: {', '.join(self.names)})")


def load_ingestion_config(path: Path) -> IngestionConfig:
    """Parse and validate the file; every problem is reported in one message."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise IngestionConfigError(f"{path}: cannot read ingestion config: {exc}") from exc
    except yaml.YAMLError as exc:
        raise IngestionConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("ingestion"), list):
        raise IngestionConfigError(f"{path}: expected a mapping with a list under 'ingestion:'")

    problems: list[str] = []
    ingestors: list[IngestorConfig] = []
    for index, entry in enumerate(document["ingestion"]):
        ingestor = _parse_entry(path, index, entry, problems)
        if ingestor is not None:
            ingestors.append(ingestor)

    # Counted over every entry that has a name, valid or not, so no duplicate hides.
    named = [e.get("name") for e in document["ingestion"] if isinstance(e, dict)]
    duplicates = [
        name for name, n in Counter(n for n in named if isinstance(n, str)).items() if n > 1
    ]
    if duplicates:
        problems.append(f"duplicate ingestor names: {', '.join(sorted(duplicates))}")
    slugs = Counter(i.slug for i in ingestors)
    clashes = sorted(i.name for i in ingestors if slugs[i.slug] > 1 and i.name not in duplicates)
    if clashes:
        problems.append(f"names that differ only in punctuation: {', '.join(clashes)}")
    if problems:
        listing = "\n  - ".join(problems)
        raise IngestionConfigError(f"{path}: invalid ingestion config:\n  - {listing}")
    return IngestionConfig(path=path, ingestors=tuple(ingestors))


def _parse_entry(path: Path, index: int, entry: Any, problems: list[str]) -> IngestorConfig | None:
    where = f"ingestion[{index}]"
    if not isinstance(entry, dict):
        problems.append(f"{where}: expected a mapping, got {type(entry).__name__}")
        return None
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: missing 'name'")
        return None
    where = f"{where} (name '{name}')"
    start = len(problems)
    if not _NAME_PATTERN.match(name):
        problems.append(f"{where}: name must match {_NAME_PATTERN.pattern}")

    source_type = entry.get("source_type")
    if source_type not in SOURCE_TYPES:
        problems.append(
            f"{where}: unknown source_type {source_type!r} (expected one of "
            f"{', '.join(SOURCE_TYPES)})"
        )

    schedule = entry.get("schedule")
    if (
        not isinstance(schedule, str)
        or len(schedule.split()) != 5
        or not croniter.is_valid(schedule)
    ):
        problems.append(f"{where}: schedule {schedule!r} is not a 5-field cron expression")

    base = str(path.parent)
    registry = entry.get("registry")
    if not isinstance(registry, str) or not registry.strip():
        problems.append(f"{where}: missing 'registry'")
    feed_path = entry.get("feed_path")
    if source_type in ("local", "http") and (not isinstance(feed_path, str) or not feed_path):
        problems.append(f"{where}: source_type '{source_type}' needs 'feed_path'")
    if source_type == "http":
        for key, value in (("registry", registry), ("feed_path", feed_path)):
            if isinstance(value, str) and not is_url(value):
                problems.append(f"{where}: {key} must be an http(s) URL for source_type 'http'")

    organizations: list[str] = []
    filter_block = entry.get("filter") or {}
    if not isinstance(filter_block, dict):
        problems.append(f"{where}: 'filter' must be a mapping")
    else:
        raw_orgs = filter_block.get("organization") or []
        if isinstance(raw_orgs, str):
            raw_orgs = [raw_orgs]
        if not isinstance(raw_orgs, list) or not all(isinstance(o, str) for o in raw_orgs):
            problems.append(f"{where}: filter.organization must be a list of URNs")
        else:
            organizations = [o.strip() for o in raw_orgs]

    if len(problems) > start:
        return None
    assert isinstance(registry, str) and isinstance(schedule, str)
    assert source_type in ("local", "http", "cmp")
    return IngestorConfig(
        name=name,
        source_type=source_type,
        registry=resolve_location(base, registry.strip()),
        feed_path=resolve_location(base, feed_path.strip()) if isinstance(feed_path, str) else None,
        organizations=tuple(organizations),
        schedule=schedule,
    )
