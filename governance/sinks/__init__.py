"""Audit export sinks: durable, append-only copies of the ledger that survive the incident.

``export`` holds the sink-independent core (rows, cursor, the export loop, verification against
the ledger); ``jsonl``, ``postgres`` and ``s3`` are the adapters.
"""
