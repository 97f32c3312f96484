"""One dynamic partition per ``project/field``, added by ``labels_sensor``."""

import dagster as dg

FIELDS = "fields"

field_partitions = dg.DynamicPartitionsDefinition(name=FIELDS)


def split_field_key(key: str) -> tuple[str, str]:
    project, sep, field = key.partition("/")
    if not sep or not project or not field:
        raise ValueError(f"field partition {key!r} is not 'project/field'")
    return project, field
