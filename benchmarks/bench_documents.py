"""Documents benchmark: extraction + chunking of a project, against the seed's per-document
worker, and the cost of an incremental run.

Generates N text documents (default 10,000; 0.5-6 KB of paragraphs each, a mix of .txt, .md and
.html) plus the shared court-opinion PDFs and DOCX repeated, then on a fresh PostgreSQL
database prints:

- full run (registry sync + extraction + chunking, as the three assets run them): docs/s, and
  separately the small text documents' docs/s and the PDFs' pages/s;
- an incremental run after adding one document, and its share of the full run (target <= 5%);
- the same incremental run through Dagster (``materialize`` of the three assets), for scale;
- the LexIntel-style baseline on a sample: one document at a time, as one Celery task each
  would (read, extract, chunk, an ORM object per chunk, a commit per document), and the ratio.

Usage::

    python benchmarks/bench_documents.py [--n 10000] [--pdf-copies 10] [--baseline-n 1000]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_catalog import DEFAULT_ADMIN_URL, scratch_database

from lexi_pipelines.common.files import file_sha256
from lexi_pipelines.db.engine import ensure_schema, make_engine
from lexi_pipelines.db.models import Chunk, Document
from lexi_pipelines.documents.chunk import chunk_id, chunk_project
from lexi_pipelines.documents.chunking import Chunker
from lexi_pipelines.documents.extract import extract_pending
from lexi_pipelines.documents.extraction import extract_file
from lexi_pipelines.documents.ids import stem_id
from lexi_pipelines.documents.inventory import media_type_of
from lexi_pipelines.documents.projects import ProjectPaths, project_paths
from lexi_pipelines.documents.registry import sync_project
from lexi_pipelines.documents.tokenizer import load_model_tokenizer

SHARED_LEGAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "legal"
MAX_BYTES = 100_000_000

_WORDS = (  # noqa: SIM905 - one readable string
    "court held that the contract was void because the parties never agreed on the price and "
    "the buyer could not rely on the seller statement district appeal review motion evidence "
    "witness testimony damages breach warranty notice clause term party agreement law state "
    "federal jurisdiction claim defendant plaintiff counsel hearing order judgment record"
).split()


def _paragraph(rnd: random.Random) -> str:
    sentences = []
    for _ in range(rnd.randint(2, 7)):
        words = [rnd.choice(_WORDS) for _ in range(rnd.randint(6, 22))]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def generate_documents(folder: Path, n: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    for i in range(n):
        paragraphs = [_paragraph(rnd) for _ in range(rnd.randint(1, 12))]
        sub = folder / f"batch-{i // 1000:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        kind = i % 10
        if kind < 7:
            (sub / f"doc-{i:05d}.txt").write_text("\n\n".join(paragraphs))
        elif kind < 9:
            (sub / f"doc-{i:05d}.md").write_text(f"# Note {i}\n\n" + "\n\n".join(paragraphs))
        else:
            body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
            html = f"<html><head><title>Doc {i}</title><style>p{{}}</style></head><body>{body}"
            (sub / f"doc-{i:05d}.html").write_text(html + "</body></html>")


def add_legal_copies(folder: Path, copies: int) -> int:
    """Copies of the shared PDFs and DOCX; returns the PDF page count they add."""
    if not SHARED_LEGAL.is_dir():
        print(f"(no shared legal files at {SHARED_LEGAL}: PDF figures skipped)")
        return 0
    target = folder / "court"
    target.mkdir(parents=True, exist_ok=True)
    for i in range(copies):
        for name in ("vector-pdf.pdf", "image-pdf.pdf", "word-docx.docx"):
            source = SHARED_LEGAL / name
            shutil.copy(source, target / f"{source.stem}-{i:03d}{source.suffix}")
    return copies * (30 + 2)


def run_pipeline(url: str, paths: ProjectPaths, chunker: Chunker, key: str) -> dict[str, float]:
    engine = make_engine(url)
    ensure_schema(engine)
    t0 = time.perf_counter()
    sync = sync_project(engine, paths)
    t1 = time.perf_counter()
    extracted = extract_pending(engine, paths, max_bytes=MAX_BYTES)
    t2 = time.perf_counter()
    chunked = chunk_project(engine, paths, chunker, key)
    t3 = time.perf_counter()
    engine.dispose()
    return {
        "files": sync.files,
        "new": len(sync.new),
        "extracted": extracted.attempted,
        "pages": extracted.pages,
        "chunks": chunked.chunks_written,
        "sync_s": t1 - t0,
        "extract_s": t2 - t1,
        "chunk_s": t3 - t2,
        "total_s": t3 - t0,
    }


def baseline(url: str, folder: Path, chunker: Chunker, limit: int) -> tuple[int, float]:
    """LexIntel's worker shape: per document, hash, extract, chunk, ORM rows, commit."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and media_type_of(p.name))[:limit]
    engine = make_engine(url)
    ensure_schema(engine)
    from datetime import UTC, datetime

    started = time.perf_counter()
    for path in files:
        media_type = media_type_of(path.name) or ""
        with Session(engine) as session:
            now = datetime.now(UTC)
            doc = Document(
                project="baseline",
                id=stem_id(path.name),
                relative_path=str(path.relative_to(folder)),
                sha256=file_sha256(path),
                size_bytes=path.stat().st_size,
                mtime_ns=path.stat().st_mtime_ns,
                media_type=media_type,
                status="PENDING",
                created_at=now,
                updated_at=now,
            )
            session.add(doc)
            session.commit()
            outcome = extract_file(path, media_type, MAX_BYTES)
            doc.status = outcome.status
            for c in chunker.chunk(outcome.text) if outcome.text else []:
                session.add(
                    Chunk(
                        id=chunk_id("baseline", doc.id, c.ordinal, c.text),
                        project="baseline",
                        document_id=doc.id,
                        ordinal=c.ordinal,
                        text=c.text,
                        char_start=c.start,
                        char_end=c.end,
                        token_count=c.token_count,
                    )
                )
                session.flush()
            session.commit()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return len(files), elapsed


def dagster_incremental(url: str, storage: Path, project: str) -> float:
    import warnings

    import dagster as dg

    from lexi_pipelines.common.resources import DatabaseResource
    from lexi_pipelines.documents.assets import (
        document_chunks,
        document_text,
        documents_registry,
    )
    from lexi_pipelines.documents.partitions import PROJECTS
    from lexi_pipelines.documents.resources import DocumentStorageResource

    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(PROJECTS, [project])
        started = time.perf_counter()
        dg.materialize(
            [documents_registry, document_text, document_chunks],
            partition_key=project,
            instance=instance,
            resources={
                "database": DatabaseResource(url=url),
                "document_storage": DocumentStorageResource(storage_path=str(storage)),
            },
        )
        return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="generated text documents")
    parser.add_argument("--pdf-copies", type=int, default=10, help="copies of the shared files")
    parser.add_argument("--baseline-n", type=int, default=1_000, help="baseline sample size")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL)
    args = parser.parse_args(argv)

    model = load_model_tokenizer()
    chunker = Chunker(model.tokenizer, model.content_tokens, 32)
    key = chunker.key(model.fingerprint)
    with tempfile.TemporaryDirectory(prefix="lexi-bench-docs-") as tmp:
        storage = Path(tmp)
        text_paths = project_paths(storage, "texts")
        generate_documents(text_paths.documents, args.n)
        pdf_paths = project_paths(storage, "court")
        pages = add_legal_copies(pdf_paths.documents, args.pdf_copies)
        mixed_paths = project_paths(storage, "mixed")
        shutil.copytree(text_paths.documents, mixed_paths.documents)
        if pages:
            shutil.copytree(pdf_paths.documents, mixed_paths.documents / "court")
        print(f"documents: {args.n} generated text/md/html + {args.pdf_copies} x 3 legal files")

        with scratch_database(args.admin_url, "lexi_bench_docs") as url:
            texts = run_pipeline(url, text_paths, chunker, key)
            print(
                f"small text docs: {texts['extracted']:.0f} docs in {texts['total_s']:.2f}s = "
                f"{texts['extracted'] / texts['total_s']:.0f} docs/s end to end "
                f"(sync {texts['sync_s']:.2f}s, extract {texts['extract_s']:.2f}s, "
                f"chunk {texts['chunk_s']:.2f}s; {texts['chunks']:.0f} chunks)"
            )
            if pages:
                pdfs = run_pipeline(url, pdf_paths, chunker, key)
                print(
                    f"PDFs and DOCX: {pdfs['pages']:.0f} PDF pages in {pdfs['extract_s']:.2f}s "
                    f"extraction = {pdfs['pages'] / pdfs['extract_s']:.0f} pages/s "
                    f"({pdfs['extracted']:.0f} files, {pdfs['chunks']:.0f} chunks)"
                )
            full = run_pipeline(url, mixed_paths, chunker, key)
            print(
                f"full run, mixed project: {full['files']:.0f} files in {full['total_s']:.2f}s = "
                f"{full['files'] / full['total_s']:.0f} docs/s"
            )
            unchanged = run_pipeline(url, mixed_paths, chunker, key)
            print(
                f"re-run, nothing changed: {unchanged['total_s']:.3f}s "
                f"({100 * unchanged['total_s'] / full['total_s']:.2f}% of the full run)"
            )
            (mixed_paths.documents / "late-arrival.txt").write_text(_paragraph(random.Random(1)))
            one = run_pipeline(url, mixed_paths, chunker, key)
            assert one["new"] == 1 and one["extracted"] == 1
            share = 100 * one["total_s"] / full["total_s"]
            print(
                f"incremental run, one document added: {one['total_s']:.3f}s = {share:.2f}% of "
                f"the full run (target <= 5%)"
            )
            (mixed_paths.documents / "later-arrival.txt").write_text(_paragraph(random.Random(2)))
            through_dagster = dagster_incremental(url, storage, "mixed")
            print(
                f"same incremental run through Dagster materialize (3 assets, in-process run "
                f"start-up included): {through_dagster:.2f}s"
            )
            engine = make_engine(url)
            with engine.connect() as conn:
                total_chunks = conn.scalar(select(func.count()).select_from(Chunk.__table__))
            engine.dispose()
            print(f"chunks in the database: {total_chunks}")

        with scratch_database(args.admin_url, "lexi_bench_docs_base") as url:
            done, elapsed = baseline(url, text_paths.documents, chunker, args.baseline_n)
            base_rate = done / elapsed
            fast_rate = texts["extracted"] / texts["total_s"]
            print(
                f"baseline (per-document task, ORM rows, commit per document): {done} docs in "
                f"{elapsed:.2f}s = {base_rate:.0f} docs/s; pipeline / baseline = "
                f"{fast_rate / base_rate:.1f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
