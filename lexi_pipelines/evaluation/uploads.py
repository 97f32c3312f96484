"""The upload tree under ``{storage}/evaluations`` and change detection by content hash.

Layout::

    evaluations/{use_case}/config.json | config.yaml
    evaluations/{use_case}/models/{model}/dataset.csv | dataset.xlsx
    evaluations/{use_case}/results/{model}/...        (written by the pipeline)
    evaluations/{use_case}/leaderboard.xlsx            (written by the pipeline)

A partition key is ``use_case/model``. Scanning stats every upload and hashes only files whose
size or mtime changed since the previous scan, so an idle sensor tick reads no file contents.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lexi_pipelines.common.files import file_sha256
from lexi_pipelines.evaluation.config import CONFIG_NAMES

EVALUATIONS_DIR = "evaluations"
MODELS_DIR = "models"
RESULTS_DIR = "results"
DATASET_NAMES = ("dataset.csv", "dataset.xlsx")
# Names become folder names and partition keys: no separators, no dot-only names.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def valid_name(name: str) -> bool:
    return bool(_NAME.fullmatch(name)) and ".." not in name


def model_key(use_case: str, model: str) -> str:
    return f"{use_case}/{model}"


def split_model_key(key: str) -> tuple[str, str]:
    use_case, sep, model = key.partition("/")
    if not sep or not valid_name(use_case) or not valid_name(model):
        raise ValueError(f"evaluation partition {key!r} is not 'use_case/model'")
    return use_case, model


@dataclass(frozen=True)
class EvaluationPaths:
    root: Path

    def use_case_dir(self, use_case: str) -> Path:
        return self.root / use_case

    def model_dir(self, use_case: str, model: str) -> Path:
        return self.root / use_case / MODELS_DIR / model

    def results_dir(self, use_case: str, model: str) -> Path:
        return self.root / use_case / RESULTS_DIR / model

    def results_workbook(self, use_case: str, model: str, dataset_hash: str) -> Path:
        return self.results_dir(use_case, model) / f"results-{dataset_hash[:12]}.xlsx"

    def issue_report(self, use_case: str, model: str, dataset_hash: str) -> Path:
        return self.results_dir(use_case, model) / f"quality-issues-{dataset_hash[:12]}.csv"

    def leaderboard_workbook(self, use_case: str) -> Path:
        return self.root / use_case / "leaderboard.xlsx"


def evaluation_paths(storage: Path) -> EvaluationPaths:
    return EvaluationPaths(storage / EVALUATIONS_DIR)


def _first_file(folder: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        candidate = folder / name
        if candidate.is_file() and not candidate.is_symlink():
            return candidate
    return None


@dataclass(frozen=True)
class Upload:
    use_case: str
    model: str
    config: Path | None
    dataset: Path

    @property
    def key(self) -> str:
        return model_key(self.use_case, self.model)


@dataclass
class Scan:
    uploads: dict[str, Upload]
    use_cases: list[str]
    # Per partition key: a digest of the config and dataset content hashes.
    digests: dict[str, str]
    # Per file: [size, mtime_ns, sha256], carried to the next scan.
    files: dict[str, list[Any]]
    skipped: list[str]


def find_uploads(root: Path) -> tuple[list[Upload], list[str], list[str]]:
    """Every model folder holding a dataset; also the use cases and the names refused."""
    uploads: list[Upload] = []
    use_cases: list[str] = []
    skipped: list[str] = []
    if not root.is_dir():
        return uploads, use_cases, skipped
    for case_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if not valid_name(case_dir.name):
            skipped.append(f"{case_dir}: not a valid use case name")
            continue
        use_cases.append(case_dir.name)
        config = _first_file(case_dir, CONFIG_NAMES)
        models_dir = case_dir / MODELS_DIR
        if not models_dir.is_dir():
            continue
        for model_dir in sorted(p for p in models_dir.iterdir() if p.is_dir()):
            if not valid_name(model_dir.name):
                skipped.append(f"{model_dir}: not a valid model name")
                continue
            dataset = _first_file(model_dir, DATASET_NAMES)
            if dataset is not None:
                uploads.append(Upload(case_dir.name, model_dir.name, config, dataset))
    return uploads, use_cases, skipped


def scan(root: Path, previous_files: dict[str, list[Any]] | None = None) -> Scan:
    """Find uploads and their content digests, re-hashing only files whose stat changed."""
    previous_files = previous_files or {}
    uploads, use_cases, skipped = find_uploads(root)
    files: dict[str, list[Any]] = {}

    def content_hash(path: Path) -> str:
        key = str(path)
        if key not in files:
            stat = path.stat()
            known = previous_files.get(key)
            if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
                files[key] = known
            else:
                files[key] = [stat.st_size, stat.st_mtime_ns, file_sha256(path)]
        return str(files[key][2])

    digests: dict[str, str] = {}
    for upload in uploads:
        parts = [
            content_hash(upload.config) if upload.config else "no-config",
            content_hash(upload.dataset),
            upload.dataset.name,
        ]
        digests[upload.key] = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return Scan({u.key: u for u in uploads}, use_cases, digests, files, skipped)
