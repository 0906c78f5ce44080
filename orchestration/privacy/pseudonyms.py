"""Keyed pseudonyms, the Python twin of dbt_project/macros/pseudonyms.sql."""

from __future__ import annotations

import hashlib


def keyed_hash(key: str, value: str) -> str:
    """md5(key || value) as 32 hex characters, equal to dbt's `keyed_hash` on DuckDB."""
    return hashlib.md5((key + value).encode("utf-8")).hexdigest()
