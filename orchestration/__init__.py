"""journey-warehouse orchestration: Dagster code location, ingestion, dbt and ML wiring."""
