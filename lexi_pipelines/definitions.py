"""The code location: every domain's definitions merged, plus shared resources.

Domain modules are imported as modules, not their ``defs`` objects: the loader refuses a
module that holds more than one ``Definitions`` at top level.
"""

import dagster as dg

from lexi_pipelines.catalog import definitions as catalog
from lexi_pipelines.classification import definitions as classification
from lexi_pipelines.documents import definitions as documents
from lexi_pipelines.evaluation import definitions as evaluation
from lexi_pipelines.operations import definitions as operations
from lexi_pipelines.operations.executors import build_executor, build_io_resources
from lexi_pipelines.resources import build_resources
from lexi_pipelines.settings import get_settings
from lexi_pipelines.vectors import definitions as vectors

settings = get_settings()
defs = dg.Definitions.merge(
    catalog.defs,
    documents.defs,
    vectors.defs,
    classification.defs,
    evaluation.defs,
    operations.defs,
    dg.Definitions(
        resources={**build_resources(settings), **build_io_resources(settings)},
        executor=build_executor(settings),
    ),
)
