"""One dynamic partition per project folder, added by ``documents_inbox_sensor``."""

import dagster as dg

PROJECTS = "projects"

project_partitions = dg.DynamicPartitionsDefinition(name=PROJECTS)
