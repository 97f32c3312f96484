"""Resources shared by every domain."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import Field, PrivateAttr
from sqlalchemy import Connection, Engine

from lexi_pipelines.db.engine import ensure_schema, make_engine


class DatabaseResource(dg.ConfigurableResource):
    """Owns the SQLAlchemy engine of the metadata database; migrates it on first use."""

    url: str = Field(
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db or sqlite:///path.db"
    )

    _engine: Engine | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Created per run process, never at definitions load time.
        self._engine = make_engine(self.url)
        ensure_schema(self._engine)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
            ensure_schema(self._engine)
        return self._engine

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn
