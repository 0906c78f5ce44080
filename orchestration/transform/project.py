"""The dbt project and its manifest."""

from __future__ import annotations

import functools
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from orchestration.settings import DBT_PROJECT_DIR


@functools.cache
def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """The dbt installed beside this interpreter (the venv's), so that running
    `.venv/bin/python` without an activated venv still finds it; else dbt on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def dbt_cli_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable())


def manifest_is_stale() -> bool:
    """True when a file of the dbt project changed after target/manifest.json was written."""
    manifest = dbt_project().manifest_path
    if not manifest.exists():
        return True
    written = manifest.stat().st_mtime
    sources = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests", "snapshots", "analyses"):
        sources += [p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file()]
    return any(path.stat().st_mtime > written for path in sources if path.exists())


def prepare_manifest(force: bool = False) -> Path:
    """Write target/manifest.json with `dbt parse` when it is missing (or `force`); returns
    its path. The code location reads the manifest at load time, so install and test setup
    call this once; `dagster dev` re-parses by itself (DbtProject.prepare_if_dev)."""
    project = dbt_project()
    if force or not project.manifest_path.exists():
        dbt_cli_resource().cli(
            ["parse", "--quiet"], target_path=project.target_path, raise_on_error=True
        ).wait()
    if not project.manifest_path.exists():
        raise FileNotFoundError(
            f"dbt parse did not write {project.manifest_path}; run "
            f"`dbt parse --project-dir {project.project_dir}` to see why."
        )
    return project.manifest_path
