"""Settings read from the environment, with embedded defaults that need no server.

Pure module: no Dagster import, so the CLI, benchmarks and tests share it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEMO_DATA_DIR = Path(__file__).parent / "demo_data"
DEMO_INGESTION_CONFIG = DEMO_DATA_DIR / "catalog" / "ingestion.yaml"


@dataclass(frozen=True)
class LexiSettings:
    home: Path
    database_url: str
    storage_path: Path
    ingestion_config: Path

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> LexiSettings:
        env = os.environ if environ is None else environ
        home = Path(env.get("LEXI_HOME") or ".lexi").expanduser().resolve()
        database_url = env.get("LEXI_DATABASE_URL") or f"sqlite:///{home / 'lexi.db'}"
        storage = Path(env.get("LEXI_STORAGE_PATH") or home / "storage").expanduser().resolve()
        config = Path(env.get("LEXI_INGESTION_CONFIG") or DEMO_INGESTION_CONFIG).expanduser()
        return cls(
            home=home,
            database_url=database_url,
            storage_path=storage,
            ingestion_config=config.resolve(),
        )


def get_settings() -> LexiSettings:
    return LexiSettings.from_env()
