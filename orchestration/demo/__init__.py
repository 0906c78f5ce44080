"""Deterministic demo-export generator (pure Python: no Dagster)."""

from orchestration.demo.generator import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]
