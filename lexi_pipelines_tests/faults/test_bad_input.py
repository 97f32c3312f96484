"""A corpus of bad input across the domains: each case fails clearly and changes nothing else.

Every case builds its bad input in a fresh copy of a good state (a catalog ingested, documents
extracted, a model trained), runs the domain's entry point, and asserts that

- the error names what is wrong: the file, and where the format has them the item and field;
- the state is what it was: tables (every column) and files, less what the bad input itself
  adds by design (a document that fails extraction gets its ``FAILED`` row, nothing more).

The domains' own test modules pin the details of each parser; this corpus is the
cross-domain contract, so one table shows what "bad input" means everywhere.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import docx
import pytest
import yaml
from typer.testing import CliRunner

from lexi_pipelines.catalog.config import load_ingestion_config
from lexi_pipelines.catalog.feed import ingest_feed
from lexi_pipelines.catalog.registry import ingest_registry
from lexi_pipelines.catalog.sources import SourceReader
from lexi_pipelines.classification.assets import field_model
from lexi_pipelines.classification.partitions import FIELDS
from lexi_pipelines.classification.resources import ModelArtifactIOManager
from lexi_pipelines.classification.training import prepare_field
from lexi_pipelines.cli import app
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.db.engine import ensure_schema, make_engine
from lexi_pipelines.documents.assets import document_text
from lexi_pipelines.documents.chunk import chunk_project
from lexi_pipelines.documents.extract import extract_pending
from lexi_pipelines.documents.partitions import PROJECTS
from lexi_pipelines.documents.projects import project_paths
from lexi_pipelines.documents.registry import sync_project
from lexi_pipelines.documents.resources import DocumentStorageResource
from lexi_pipelines.evaluation.config import load_config
from lexi_pipelines.evaluation.dataset import load_dataset
from lexi_pipelines.vectors.backends import BackendConfig, open_index
from lexi_pipelines.vectors.index import IndexSpec
from lexi_pipelines_tests.classification.test_assets import CLASSIFICATION, KEY, _write_corpus
from lexi_pipelines_tests.classification.test_assets import PROJECT as LABELLED
from lexi_pipelines_tests.conftest import DEMO_CATALOG
from lexi_pipelines_tests.documents.test_extraction import encrypted, text_pdf
from lexi_pipelines_tests.faults.state import Tables, file_hashes, table_rows

ACME = "acme-outdoor"
NOTHING = frozenset[str]()


class NoError(AssertionError):
    pass


@dataclass
class World:
    """A good state to spoil: a SQLite database and the files beside it, under ``root``."""

    root: Path
    instance: dg.DagsterInstance

    @property
    def url(self) -> str:
        return f"sqlite:///{self.root / 'lexi.db'}"

    @property
    def catalog(self) -> Path:
        return self.root / "catalog"

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    def state(self) -> tuple[Tables, dict[str, str]]:
        """Every table, every column; every file the pipelines write (not the inputs)."""
        files = {
            name: digest
            for name, digest in file_hashes(self.root, scratch=True).items()
            if OUTPUTS.intersection(Path(name).parts)
        }
        return table_rows(self.url, without=NOTHING), files


# Folders the pipelines write: extracted text, model versions, prediction history, vectors.
OUTPUTS = frozenset({"text", "models", "predictions", "vectors"})


def _failure(run: Callable[[], object], *errors: type[BaseException]) -> str:
    """The message of the expected error; no error at all fails the case."""
    try:
        run()
    except errors as exc:
        return str(exc)
    raise NoError("the bad input was accepted")


def _dagster_failure(result: dg.ExecuteInProcessResult) -> str:
    assert not result.success, "the bad input was accepted"
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    # A permanent input error: no retry, whatever the policy.
    assert not [e for e in result.all_events if e.event_type_value == "STEP_RESTARTED"]
    assert failure.step_failure_data.error is not None
    return failure.step_failure_data.error.message


# --- the corpus ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    domain: str
    name: str
    act: Callable[[World], str]
    expect: tuple[str, ...]
    # Rows a case may add by design: (table, predicate on the new row).
    adds: tuple[tuple[str, Callable[[tuple[Any, ...]], bool]], ...] = field(default=())
    known_gap: str | None = None  # an open bug: the case is expected to fail until fixed

    @property
    def id(self) -> str:
        return f"{self.domain}: {self.name}"


CASES: list[Case] = []


def case(
    domain: str, name: str, *expect: str, adds: tuple[Any, ...] = (), known_gap: str | None = None
) -> Callable[..., Any]:
    def register(act: Callable[[World], str]) -> Callable[[World], str]:
        CASES.append(Case(domain, name, act, expect, adds, known_gap))
        return act

    return register


# catalog: the registry, ingestion.yaml, feed indexes and shards of the demo's acme-outdoor.

REGISTRY = "acme-outdoor/brand-registry.jsonld"
INDEX = "acme-outdoor/feed/feed.json"
SHARD0 = "acme-outdoor/feed/feed-000.json"
SHARD1 = "acme-outdoor/feed/feed-001.json"


def _ingest(world: World, name: str = ACME) -> None:
    ingestor = load_ingestion_config(world.catalog / "ingestion.yaml").get(name)
    engine = make_engine(world.url)
    try:
        with SourceReader() as reader:
            ingest_registry(engine, ingestor, reader)
            ingest_feed(engine, ingestor, reader)
    finally:
        engine.dispose()


def _catalog_failure(world: World) -> str:
    from lexi_pipelines.catalog.errors import CatalogInputError, IngestionConfigError

    return _failure(lambda: _ingest(world), CatalogInputError, IngestionConfigError)


def _edit(world: World, relative: str, change: Callable[[Any], None]) -> None:
    path = world.catalog / relative
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _item(data: Any, position: int) -> Any:
    return data["itemListElement"][position - 1]["item"]


@case("catalog", "registry is truncated JSON", "brand-registry.jsonld", "malformed JSON")
def _(world: World) -> str:
    path = world.catalog / REGISTRY
    path.write_bytes(path.read_bytes()[:-30])
    return _catalog_failure(world)


@case("catalog", "registry is not UTF-8", "brand-registry.jsonld", "malformed JSON")
def _(world: World) -> str:
    path = world.catalog / REGISTRY
    path.write_bytes(path.read_bytes().replace(b'"name"', b'"n\xff\xfeame"', 1))
    return _catalog_failure(world)


@case("catalog", "registry entry of the wrong @type", "organization 1", "field '@type'")
def _(world: World) -> str:
    _edit(world, REGISTRY, lambda d: d.update({"@type": "Person"}))
    return _catalog_failure(world)


@case("catalog", "registry entry without a name", "organization 1", "field 'name'")
def _(world: World) -> str:
    _edit(world, REGISTRY, lambda d: d.pop("name"))
    return _catalog_failure(world)


@case("catalog", "registry brand without a name", "brand-registry.jsonld", "field 'brand[0].name'")
def _(world: World) -> str:
    _edit(world, REGISTRY, lambda d: d["brand"][0].update({"name": "  "}))
    return _catalog_failure(world)


@case("catalog", "registry file missing", "brand-registry.jsonld", "file not found")
def _(world: World) -> str:
    (world.catalog / REGISTRY).unlink()
    return _catalog_failure(world)


def _yaml(world: World, change: Callable[[Any], None]) -> None:
    path = world.catalog / "ingestion.yaml"
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document))


@case("catalog", "ingestion.yaml is not YAML", "ingestion.yaml", "not valid YAML", "line")
def _(world: World) -> str:
    path = world.catalog / "ingestion.yaml"
    path.write_text(path.read_text() + "\n  - name: [unclosed\n")
    return _catalog_failure(world)


@case("catalog", "ingestion.yaml unknown source_type", "ingestion[0]", "source_type 'ftp'")
def _(world: World) -> str:
    _yaml(world, lambda d: d["ingestion"][0].update({"source_type": "ftp"}))
    return _catalog_failure(world)


@case("catalog", "ingestion.yaml wrong types", "ingestion[0]", "'registry'", "schedule 5")
def _(world: World) -> str:
    _yaml(world, lambda d: d["ingestion"][0].update({"registry": ["a", "b"], "schedule": 5}))
    return _catalog_failure(world)


@case("catalog", "ingestion.yaml duplicate names", "duplicate ingestor names: acme-outdoor")
def _(world: World) -> str:
    _yaml(world, lambda d: d["ingestion"][1].update({"name": ACME}))
    return _catalog_failure(world)


@case("catalog", "feed index without a shard list", "feed.json", "index 1", "field 'shards'")
def _(world: World) -> str:
    _edit(world, INDEX, lambda d: d.update({"shards": "feed-000.json"}))
    return _catalog_failure(world)


@case("catalog", "shard path is absolute", "feed.json", "field 'shards[0].url'", "escapes")
def _(world: World) -> str:
    _edit(world, INDEX, lambda d: d["shards"][0].update({"url": "/etc/passwd"}))
    return _catalog_failure(world)


@case("catalog", "shard path is a file:// URL", "feed.json", "field 'shards[1].url'", "escapes")
def _(world: World) -> str:
    target = (world.catalog / "northwind-home" / "feed-000.json").as_uri()
    _edit(world, INDEX, lambda d: d["shards"][1].update({"url": target}))
    return _catalog_failure(world)


@case("catalog", "price of the wrong type", "feed-000.json", "item 2", "offers[0].price")
def _(world: World) -> str:
    _edit(world, SHARD0, lambda d: _item(d, 2)["offers"].update({"price": {"value": 3}}))
    return _catalog_failure(world)


@case("catalog", "timestamp that is no date", "feed-001.json", "item 2", "priceValidUntil")
def _(world: World) -> str:
    _edit(world, SHARD1, lambda d: _item(d, 2)["offers"].update({"priceValidUntil": "soon"}))
    return _catalog_failure(world)


@case("catalog", "price beyond the price column", "feed-001.json", "item 2", "offers[0].price")
def _(world: World) -> str:
    _edit(world, SHARD1, lambda d: _item(d, 2)["offers"].update({"price": 1e15}))
    return _catalog_failure(world)


@case("catalog", "stock level beyond any integer", "feed-001.json", "item 2", "inventoryLevel")
def _(world: World) -> str:
    level = {"@type": "QuantitativeValue", "value": 10**30}
    _edit(world, SHARD1, lambda d: _item(d, 2)["offers"].update({"inventoryLevel": level}))
    return _catalog_failure(world)


@case("catalog", "item list that is no list", "feed-000.json", "field 'itemListElement'")
def _(world: World) -> str:
    _edit(world, SHARD0, lambda d: d.update({"itemListElement": {"item": {}}}))
    return _catalog_failure(world)


@case("catalog", "empty shard file", "feed-001.json", "empty file")
def _(world: World) -> str:
    (world.catalog / SHARD1).write_bytes(b"")
    return _catalog_failure(world)


@case("catalog", "duplicate @id in one shard", "feed-000.json", "item.@id", "duplicate")
def _(world: World) -> str:
    def duplicate(data: Any) -> None:
        _item(data, 3)["@id"] = _item(data, 2)["@id"]

    _edit(world, SHARD0, duplicate)
    return _catalog_failure(world)


# documents: one bad file among good ones fails alone, with its reason.

PROJECT = "matters"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _process(world: World, *, max_bytes: int = 10**8) -> tuple[list[str], list[str]]:
    """Sync and extract the project (chunks are untouched by a failed file); the failures and
    the skipped files, each as ``path: reason``."""
    engine = make_engine(world.url)
    try:
        paths = project_paths(world.storage, PROJECT)
        synced = sync_project(engine, paths)
        extracted = extract_pending(engine, paths, max_bytes=max_bytes, workers=1)
    finally:
        engine.dispose()
    failed = [f"{f.relative_path}: {f.error}" for f in extracted.failures]
    skipped = [f"{s.relative_path}: {s.reason}" for s in synced.skipped]
    return failed, skipped


def _bad_document(world: World, name: str, data: bytes, **kwargs: Any) -> str:
    (world.storage / PROJECT / "documents" / name).write_bytes(data)
    failed, _skipped = _process(world, **kwargs)
    if not failed:
        raise NoError(f"{name} was extracted")
    (message,) = failed
    return message


def _failed_row(name: str) -> tuple[str, Callable[[tuple[Any, ...]], bool]]:
    # The bad file's own row, FAILED: the one change to the tables a bad document makes.
    return ("documents", lambda row: name in row and "FAILED" in row)


@case(
    "documents",
    "binary bytes in a .txt",
    "blob.txt",
    "binary content",
    adds=(_failed_row("blob.txt"),),
)
def _(world: World) -> str:
    return _bad_document(world, "blob.txt", bytes(range(256)) * 64)


@case("documents", "corrupt PDF", "broken.pdf", "corrupt PDF", adds=(_failed_row("broken.pdf"),))
def _(world: World) -> str:
    return _bad_document(world, "broken.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages")


@case("documents", "PDF locked by a password", "locked.pdf", "encrypted PDF", "password",
      adds=(_failed_row("locked.pdf"),))  # fmt: skip
def _(world: World) -> str:
    data = encrypted(text_pdf(["secret terms"]), user_password="s3cret")
    return _bad_document(world, "locked.pdf", data)


@case("documents", "0-byte PDF", "empty.pdf", "empty file", adds=(_failed_row("empty.pdf"),))
def _(world: World) -> str:
    return _bad_document(world, "empty.pdf", b"")


def zip_bomb(expanded_mb: int = 64) -> bytes:
    """A real DOCX whose document.xml expands ~1000x: megabytes of tiny paragraphs."""
    document = docx.Document()
    document.add_paragraph("cover page")
    plain = io.BytesIO()
    document.save(plain)
    source = zipfile.ZipFile(plain)
    out = io.BytesIO()
    paragraph = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                archive.writestr(info, source.read(info))
                continue
            body = source.read(info)
            head, tail = body.split(b"<w:body>", 1)
            with archive.open("word/document.xml", "w", force_zip64=True) as member:
                member.write(head + b"<w:body>")
                block = paragraph * ((1 << 20) // len(paragraph))
                for _ in range(expanded_mb):
                    member.write(block)
                member.write(tail)
    return out.getvalue()


@case("documents", "zip bomb disguised as DOCX", "bomb.docx", "word/document.xml", "expands",
      adds=(_failed_row("bomb.docx"),))  # fmt: skip
def _(world: World) -> str:
    return _bad_document(world, "bomb.docx", zip_bomb())


@case("documents", "truncated DOCX", "cut.docx", "corrupt DOCX", adds=(_failed_row("cut.docx"),))
def _(world: World) -> str:
    plain = io.BytesIO()
    docx.Document().save(plain)
    return _bad_document(world, "cut.docx", plain.getvalue()[:700])


@case("documents", "file above the size limit", "huge.txt", "file too large", "10,000 bytes",
      adds=(_failed_row("huge.txt"),))  # fmt: skip
def _(world: World) -> str:
    return _bad_document(world, "huge.txt", b"word " * 5000, max_bytes=10_000)


@case("documents", "symlink leading out of the project", "escape.txt", "outside the project")
def _(world: World) -> str:
    secret = world.root / "secret.txt"
    secret.write_text("not part of any project")
    os.symlink(secret, world.storage / PROJECT / "documents" / "escape.txt")
    _failed, skipped = _process(world)
    if not skipped:
        raise NoError("the link was followed")
    (message,) = skipped
    return message


def _add(world: World, *args: str) -> str:
    source = world.root / "brief.md"
    source.write_text("# Brief")
    env = {"LEXI_STORAGE_PATH": str(world.storage), "LEXI_HOME": str(world.root)}
    result = CliRunner().invoke(app, ["documents", "add", PROJECT, str(source), *args], env=env)
    if result.exit_code == 0:
        raise NoError(result.output)
    return result.output


@case("documents", "lexi documents add: .. in the subfolder", "../../elsewhere", "subfolder")
def _(world: World) -> str:
    return _add(world, "--subfolder", "../../elsewhere")


@case("documents", "lexi documents add: subfolder is a link out", "inbound", "outside")
def _(world: World) -> str:
    outside = world.root / "outside"
    outside.mkdir()
    os.symlink(outside, world.storage / PROJECT / "documents" / "inbound")
    message = _add(world, "--subfolder", "inbound")
    assert not list(outside.iterdir()), "a file was copied out of the project"
    return message


@case("documents", "project name that climbs out of storage", "invalid project name", "../etc")
def _(world: World) -> str:
    resources = {
        "database": DatabaseResource(url=world.url),
        "document_storage": DocumentStorageResource(storage_path=str(world.storage)),
    }
    world.instance.add_dynamic_partitions(PROJECTS, ["../etc"])
    result = dg.materialize(
        [document_text],
        partition_key="../etc",
        resources=resources,
        instance=world.instance,
        raise_on_error=False,
    )
    return _dagster_failure(result)


# classification: labels and plugin settings of a project with a trained model.


def _labels(world: World) -> Path:
    return world.storage / LABELLED


def _prepare(world: World) -> str:
    from lexi_pipelines.classification.errors import ClassificationInputError

    engine = make_engine(world.url)
    try:
        return _failure(
            lambda: prepare_field(engine, world.storage, LABELLED, "default"),
            ClassificationInputError,
        )
    finally:
        engine.dispose()


def _train(world: World, **config: Any) -> str:
    database = DatabaseResource(url=world.url)
    resources = {
        "database": database,
        "document_storage": DocumentStorageResource(storage_path=str(world.storage)),
        "model_io_manager": ModelArtifactIOManager(
            storage_path=str(world.storage), database=database
        ),
    }
    result = dg.materialize(
        [field_model],
        partition_key=KEY,
        resources=resources,
        instance=world.instance,
        run_config={"ops": {"classification__field_model": {"config": config}}},
        raise_on_error=False,
    )
    return _dagster_failure(result)


@case("classification", "labels only for unknown documents", "no training labels", "3 unknown")
def _(world: World) -> str:
    (_labels(world) / "labels.tsv").write_text(
        "ghost-1\twater\nghost-2\tcontract\nghost-3\twater\n"
    )
    return _prepare(world)


@case("classification", "a single class to learn", "fewer than two classes", "labels.tsv")
def _(world: World) -> str:
    (_labels(world) / "labels.tsv").write_text("water-00\twater\nwater-01\twater\n")
    return _prepare(world)


@case("classification", "conflicting labels", "labels/default.tsv", "line 1", "'water'")
def _(world: World) -> str:
    folder = _labels(world) / "labels"
    folder.mkdir()
    (folder / "default.tsv").write_text("water-00\tcriminal\n")
    return _prepare(world)


@case("classification", "TSV line with one column", "labels.tsv", "line 2", "column 'doc_id'")
def _(world: World) -> str:
    (_labels(world) / "labels.tsv").write_text("water-00\twater\nwater-01 water\n")
    return _prepare(world)


@case("classification", "CSV without a label column", "labels.csv", "missing columns", "label")
def _(world: World) -> str:
    (_labels(world) / "labels.csv").write_text("doc_id,field,class\nwater-00,topic,water\n")
    return _prepare(world)


@case("classification", "JSONL line that is not JSON", "labels.jsonl", "line 2", "malformed JSON")
def _(world: World) -> str:
    line = json.dumps({"doc_id": "water-00", "field": "topic", "label": "water"})
    (_labels(world) / "labels.jsonl").write_text(line + "\n{doc_id: water-01\n")
    return _prepare(world)


@case("classification", "labels not UTF-8", "labels.tsv", "not UTF-8")
def _(world: World) -> str:
    (_labels(world) / "labels.tsv").write_bytes(b"water-00\twat\xe9r\n")
    return _prepare(world)


@case("classification", "unknown split", "labels.tsv", "line 1", "column 'split'", "'holdout'")
def _(world: World) -> str:
    (_labels(world) / "labels.tsv").write_text("water-00\twater\tholdout\n")
    return _prepare(world)


@case("classification", "labels file linked from outside", "labels/default.tsv", "outside")
def _(world: World) -> str:
    elsewhere = world.root / "elsewhere.tsv"
    elsewhere.write_text("water-00\twater\ncontract-00\tcontract\n")
    (_labels(world) / "labels").mkdir()
    os.symlink(elsewhere, _labels(world) / "labels" / "default.tsv")
    return _prepare(world)


@case("classification", "unknown classifier plugin", "classifier", "'forest'", "svm")
def _(world: World) -> str:
    return _train(world, classifier="forest")


@case("classification", "unknown plugin parameter", "classifier", "'depth'")
def _(world: World) -> str:
    return _train(world, classifier="svm", classifier_params={"depth": 3})


# evaluation: the pure core (config and dataset loading) only.

THRESHOLDS = {"autonomous": {"accuracy": 0.9}, "human_in_loop": {"accuracy": 0.5}}
TOTAL = {"type": "numeric", "strategy": "NumericMatch", "tolerance": 0.01}


def _use_case(world: World, config: Any = None, text: str | None = None) -> Path:
    folder = world.root / "use-case"
    folder.mkdir(exist_ok=True)
    raw = config if config is not None else {"fields": {"total": TOTAL}, "thresholds": THRESHOLDS}
    (folder / "config.yaml").write_text(text if text is not None else yaml.safe_dump(raw))
    return folder


def _evaluation_failure(run: Callable[[], object]) -> str:
    from lexi_pipelines.evaluation.errors import EvaluationInputError

    return _failure(run, EvaluationInputError)


@case("evaluation", "config.yaml is not YAML", "config.yaml", "not valid yaml")
def _(world: World) -> str:
    folder = _use_case(world, text="fields: {total: [unclosed\n")
    return _evaluation_failure(lambda: load_config(folder))


@case("evaluation", "unknown matching strategy", "config.yaml", "fields.total.strategy")
def _(world: World) -> str:
    config = {"fields": {"total": {**TOTAL, "strategy": "Telepathy"}}, "thresholds": THRESHOLDS}
    folder = _use_case(world, config)
    return _evaluation_failure(lambda: load_config(folder))


@case("evaluation", "config that is a list", "config.yaml", "top level must be a mapping")
def _(world: World) -> str:
    folder = _use_case(world, text="- fields\n- thresholds\n")
    return _evaluation_failure(lambda: load_config(folder))


@case("evaluation", "dataset with wrong columns", "dataset.csv", "total_predicted")
def _(world: World) -> str:
    folder = _use_case(world)
    (folder / "dataset.csv").write_text("sample_id,total_golden,total_guess\ns1,1.00,1.00\n")
    config = load_config(folder)
    return _evaluation_failure(lambda: load_dataset(folder / "dataset.csv", config))


@case(
    "evaluation",
    "dataset with a duplicated column",
    "dataset.csv",
    "duplicate column",
    "total_golden",
)
def _(world: World) -> str:
    folder = _use_case(world)
    header = "sample_id,total_golden,total_predicted,total_golden"
    (folder / "dataset.csv").write_text(f"{header}\ns1,1,1,2\n")
    config = load_config(folder)
    return _evaluation_failure(lambda: load_dataset(folder / "dataset.csv", config))


@case("evaluation", "xlsx that is no spreadsheet", "dataset.xlsx", "cannot read")
def _(world: World) -> str:
    folder = _use_case(world)
    (folder / "dataset.xlsx").write_bytes(b"PK\x03\x04 definitely not a workbook")
    config = load_config(folder)
    return _evaluation_failure(lambda: load_dataset(folder / "dataset.xlsx", config))


# vectors: the backend is a plugin name too.


@case("vectors", "unknown vector backend", "unknown vector backend", "'chroma'")
def _(world: World) -> str:
    config = BackendConfig(backend="chroma", path=world.root / "vectors")
    spec = IndexSpec(name="chunks", dimension=384)
    return _failure(lambda: open_index(config, spec), ValueError)


# --- good states and the test ----------------------------------------------------------------


def _documents_world(world: World) -> None:
    folder = world.storage / PROJECT / "documents"
    folder.mkdir(parents=True)
    (folder / "lease.txt").write_text("The tenant pays rent monthly.\n\nThe term is two years.")
    (folder / "notice.html").write_text("<html><body><p>Hearing on 3 May.</p></body></html>")
    (folder / "memo.md").write_text("# Memo\n\nSettlement talks resume next week.")
    engine = make_engine(world.url)
    ensure_schema(engine)
    paths = project_paths(world.storage, PROJECT)
    sync_project(engine, paths)
    extract_pending(engine, paths, max_bytes=10**8, workers=1)
    chunker, key = DocumentStorageResource(storage_path=str(world.storage)).chunker()
    chunk_project(engine, paths, chunker, key)
    engine.dispose()


@pytest.fixture(scope="module")
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(scope="module")
def trained_world(tmp_path_factory: pytest.TempPathFactory, instance: dg.DagsterInstance) -> World:
    """Documents extracted and version 1 of the field's model trained, evaluated, predicting."""
    world = World(tmp_path_factory.mktemp("trained"), instance)
    _write_corpus(world.storage)
    engine = make_engine(world.url)
    ensure_schema(engine)
    paths = project_paths(world.storage, LABELLED)
    sync_project(engine, paths)
    extract_pending(engine, paths, max_bytes=10**8, workers=1)
    engine.dispose()
    database = DatabaseResource(url=world.url)
    resources = {
        "database": database,
        "document_storage": DocumentStorageResource(storage_path=str(world.storage)),
        "model_io_manager": ModelArtifactIOManager(
            storage_path=str(world.storage), database=database
        ),
    }
    instance.add_dynamic_partitions(FIELDS, [KEY])
    result = dg.materialize(CLASSIFICATION, partition_key=KEY, resources=resources,
                            instance=instance)  # fmt: skip
    assert result.success
    return world


@pytest.fixture
def world(request: pytest.FixtureRequest, tmp_path: Path, instance: dg.DagsterInstance) -> World:
    domain: str = request.param
    if domain == "classification":
        template: World = request.getfixturevalue("trained_world")
        shutil.copytree(template.root, tmp_path / "world")  # keeps mtimes: nothing "changed"
        return World(tmp_path / "world", instance)
    world = World(tmp_path / "world", instance)
    world.root.mkdir()
    engine = make_engine(world.url)
    ensure_schema(engine)  # evaluation and vectors cases: an empty database must stay empty
    engine.dispose()
    if domain == "catalog":
        shutil.copytree(DEMO_CATALOG, world.catalog)
        _ingest(world)
    elif domain == "documents":
        _documents_world(world)
    return world


def test_the_corpus_covers_every_domain() -> None:
    assert len(CASES) >= 30
    assert {c.domain for c in CASES} >= {
        "catalog", "documents", "classification", "evaluation", "vectors"
    }  # fmt: skip


def _params() -> list[Any]:
    return [
        pytest.param(
            c.domain,
            c,
            id=c.id,
            marks=[pytest.mark.xfail(strict=True, reason=c.known_gap)] if c.known_gap else [],
        )
        for c in CASES
    ]


@pytest.mark.parametrize(("world", "bad"), _params(), indirect=["world"])
def test_bad_input_fails_clearly_and_leaves_the_previous_state(world: World, bad: Case) -> None:
    tables, files = world.state()

    message = bad.act(world)

    missing = [part for part in bad.expect if part not in message]
    assert not missing, f"error {message!r} does not name {missing}"
    after_tables, after_files = world.state()
    for table, allowed in bad.adds:
        added = [row for row in after_tables[table] if row not in tables[table]]
        assert added and all(allowed(row) for row in added), (table, added)
        after_tables[table] = [row for row in after_tables[table] if row in tables[table]]
    assert after_tables == tables
    assert after_files == files
