"""The code location: every domain's definitions merged, plus shared resources."""

import dagster as dg

from lexi_pipelines.catalog.definitions import defs as catalog_defs
from lexi_pipelines.resources import build_resources
from lexi_pipelines.settings import get_settings

defs = dg.Definitions.merge(
    catalog_defs,
    dg.Definitions(resources=build_resources(get_settings())),
)
