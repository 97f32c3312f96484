"""Vectors benchmark: embedding throughput of the chunk_vectors pipeline against plain
``SentenceTransformer.encode`` on the same texts, then the embedded-index comparison.

1. Builds a documents project (generated text documents, chunked with the real tokenizer)
   in a scratch PostgreSQL database, takes its first N chunk texts, and times on the same
   texts, in the same process:
   - plain ``SentenceTransformer.encode`` (the limit), and
   - the ``chunk_vectors`` pipeline end to end (read chunks, hash, embed, BM25, upsert into
     the embedded LanceDB index, bookkeeping), with the ratio (target >= 0.9 on CPU).
   The pipelined encoder (the default on CUDA) is timed too.
2. Runs ``bench_index.py`` (LanceDB against Chroma and exact search at 100,000 x 384).

Usage::

    python benchmarks/bench_vectors.py [--chunks 1000] [--index-n 100000] [--skip-index]
    python benchmarks/bench_vectors.py --device cuda   # on a GPU machine
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_catalog import DEFAULT_ADMIN_URL, scratch_database
from bench_documents import generate_documents

from lexi_pipelines.db.engine import ensure_schema, make_engine
from lexi_pipelines.documents.chunk import chunk_project
from lexi_pipelines.documents.chunking import Chunker
from lexi_pipelines.documents.extract import extract_pending
from lexi_pipelines.documents.projects import project_paths
from lexi_pipelines.documents.registry import sync_project
from lexi_pipelines.documents.tokenizer import load_model_tokenizer
from lexi_pipelines.vectors.backends import BackendConfig, open_index
from lexi_pipelines.vectors.embedding import TextEmbedder
from lexi_pipelines.vectors.sync import IndexSyncResult, sync_index
from lexi_pipelines.vectors.texts import chunk_items, chunk_spec


def build_chunks(url: str, storage: Path, documents: int) -> None:
    paths = project_paths(storage, "bench")
    generate_documents(paths.documents, documents)
    engine = make_engine(url)
    ensure_schema(engine)
    model = load_model_tokenizer()
    chunker = Chunker(model.tokenizer, model.content_tokens, 32)
    sync_project(engine, paths)
    extract_pending(engine, paths, max_bytes=100_000_000)
    chunk_project(engine, paths, chunker, chunker.key(model.fingerprint))
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=1000, help="chunk texts to embed")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--index-n", type=int, default=100_000)
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL)
    args = parser.parse_args(argv)

    embedder = TextEmbedder.load(device=args.device, batch_size=args.batch_size)
    print(f"model {embedder.name} on {embedder.device}, dimension {embedder.dimension}")
    with (
        tempfile.TemporaryDirectory(prefix="lexi-bench-vectors-") as tmp,
        scratch_database(args.admin_url, "lexi_bench_vectors") as url,
    ):
        storage = Path(tmp) / "storage"
        build_chunks(url, storage, documents=max(50, args.chunks // 2))
        engine = make_engine(url)
        items = list(chunk_items(engine, "bench"))[: args.chunks]
        texts = [item.text for item in items]
        tokens = sum(len(t.split()) for t in texts) / max(len(texts), 1)
        print(f"{len(texts)} chunk texts, about {tokens:.0f} words each")

        embedder.encode(texts[: args.batch_size])  # warm-up: first-call allocations
        started = time.perf_counter()
        embedder.model.encode(
            texts,
            batch_size=args.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        raw_s = time.perf_counter() - started
        raw_rate = len(texts) / raw_s
        print(f"plain SentenceTransformer.encode : {raw_rate:8.1f} texts/s ({raw_s:.2f}s)")
        started = time.perf_counter()
        embedder.encode_pipelined(texts)
        piped_s = time.perf_counter() - started
        print(
            f"pipelined encode (tokenize ahead, length-sorted; the CUDA path): "
            f"{len(texts) / piped_s:8.1f} texts/s = {raw_s / piped_s:.2f}x plain encode"
        )

        config = BackendConfig(backend="lancedb", path=Path(tmp) / "vectors")
        index = open_index(config, chunk_spec(embedder.dimension))

        def index_chunks() -> IndexSyncResult:
            # What the chunk_vectors asset does, items read from the database included.
            items = list(chunk_items(engine, "bench"))[: args.chunks]
            bm25 = config.bm25_path("chunks", "bench")
            return sync_index(engine, index, embedder, "bench", items, bm25_path=bm25)

        started = time.perf_counter()
        result = index_chunks()
        pipeline_s = time.perf_counter() - started
        pipeline_rate = result.embedded / pipeline_s
        print(
            f"chunk_vectors pipeline (read, embed, BM25, LanceDB upsert, bookkeeping): "
            f"{pipeline_rate:8.1f} chunks/s ({pipeline_s:.2f}s); "
            f"pipeline / plain encode = {pipeline_rate / raw_rate:.2f} (target >= 0.9 on CPU)"
        )
        started = time.perf_counter()
        again = index_chunks()
        print(
            f"re-run with no change: {again.embedded} embedded, {again.unchanged} unchanged "
            f"in {time.perf_counter() - started:.3f}s"
        )
        index.close()
        engine.dispose()

    if not args.skip_index:
        from bench_index import main as index_main

        print()
        index_main(["--n", str(args.index_n)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
