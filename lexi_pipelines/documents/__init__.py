"""Documents domain: uploaded files per project, extracted text and token-aware chunks.

Pure modules (``projects``, ``inventory``, ``ids``, ``extraction``, ``chunking``, ``registry``,
``pipeline``) hold the work; ``assets``, ``checks``, ``sensors`` and friends wire it to Dagster.
"""
