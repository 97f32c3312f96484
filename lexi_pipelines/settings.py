"""Settings read from the environment, with embedded defaults that need no server.

Pure module: no Dagster import, so the CLI, benchmarks and tests share it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEMO_DATA_DIR = Path(__file__).parent / "demo_data"
DEMO_INGESTION_CONFIG = DEMO_DATA_DIR / "catalog" / "ingestion.yaml"
EXECUTORS = ("multiprocess", "in_process", "celery")
DEFAULT_CELERY_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class LexiSettings:
    home: Path
    database_url: str
    storage_path: Path
    ingestion_config: Path
    vector_backend: str = "lancedb"
    vector_path: Path = Path(".lexi/vectors")
    embedding_model: str = "all-MiniLM-L6-v2"
    embedding_device: str = "auto"
    outbox_path: Path = Path(".lexi/outbox")
    # Scale-out (docs/deploy.md): steps on Celery workers, outputs under a shared io_path.
    executor: str = "multiprocess"
    celery_broker: str = DEFAULT_CELERY_URL
    celery_backend: str = DEFAULT_CELERY_URL
    celery_queue: str = "dagster"
    io_path: Path | None = None

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise ValueError(
                f"LEXI_EXECUTOR={self.executor!r}: expected one of {', '.join(EXECUTORS)}"
            )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> LexiSettings:
        env = os.environ if environ is None else environ
        home = Path(env.get("LEXI_HOME") or ".lexi").expanduser().resolve()
        database_url = env.get("LEXI_DATABASE_URL") or f"sqlite:///{home / 'lexi.db'}"
        storage = Path(env.get("LEXI_STORAGE_PATH") or home / "storage").expanduser().resolve()
        config = Path(env.get("LEXI_INGESTION_CONFIG") or DEMO_INGESTION_CONFIG).expanduser()
        vector_path = Path(env.get("LEXI_VECTOR_PATH") or home / "vectors").expanduser()
        outbox = Path(env.get("LEXI_OUTBOX_PATH") or home / "outbox").expanduser()
        io_path = env.get("LEXI_IO_PATH")
        return cls(
            home=home,
            database_url=database_url,
            storage_path=storage,
            ingestion_config=config.resolve(),
            vector_backend=env.get("LEXI_VECTOR_BACKEND") or "lancedb",
            vector_path=vector_path.resolve(),
            embedding_model=env.get("LEXI_EMBEDDING_MODEL") or "all-MiniLM-L6-v2",
            embedding_device=env.get("LEXI_EMBEDDING_DEVICE") or "auto",
            outbox_path=outbox.resolve(),
            executor=(env.get("LEXI_EXECUTOR") or "multiprocess").strip().lower(),
            celery_broker=env.get("LEXI_CELERY_BROKER") or DEFAULT_CELERY_URL,
            celery_backend=env.get("LEXI_CELERY_BACKEND") or DEFAULT_CELERY_URL,
            celery_queue=env.get("LEXI_CELERY_QUEUE") or "dagster",
            io_path=Path(io_path).expanduser().resolve() if io_path else None,
        )


def get_settings() -> LexiSettings:
    return LexiSettings.from_env()
