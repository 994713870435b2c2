"""Queryable evidence: the SQLite query index over the ledger and the queries it answers."""
