"""Vectors domain: offline embeddings of products and document chunks in a vector index.

Pure modules (``index``, ``lance_index``, ``pinecone_index``, ``embedding``, ``sparse``,
``texts``, ``sync``, ``search``) hold the work; ``assets``, ``checks`` and ``resources`` wire
it to Dagster.
"""
