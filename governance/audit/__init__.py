"""Queryable evidence: the query index, queries, release diffs and the six answers."""
