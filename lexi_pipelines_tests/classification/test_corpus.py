"""20 Newsgroups loading straight from the tar.gz."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from lexi_pipelines.classification.corpus import default_archive, load_20newsgroups

POST = b"From: someone@example.org\nSubject: caf\xe9\n\nBody line one.\n\nBody line two.\n"


def _archive(path: Path) -> Path:
    archive = path / "20news-bydate.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for split in ("20news-bydate-train", "20news-bydate-test"):
            for group, ids in (("sci.space", ["11", "9"]), ("rec.autos", ["5"])):
                for doc_id in ids:
                    info = tarfile.TarInfo(f"{split}/{group}/{doc_id}")
                    data = POST + doc_id.encode()
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    return archive


def test_reads_splits_in_stable_order(tmp_path: Path) -> None:
    corpus = load_20newsgroups(_archive(tmp_path))
    assert corpus.categories == ["rec.autos", "sci.space"]
    assert corpus.train.labels == ["rec.autos", "sci.space", "sci.space"]
    # numeric file order within a group: 9 before 11
    assert corpus.train.texts[1].endswith("9") and corpus.train.texts[2].endswith("11")
    assert len(corpus.test) == 3
    # latin-1: every byte decodes; headers kept by default
    assert "Subject: café" in corpus.train.texts[0]


def test_folder_argument_strip_headers_and_categories(tmp_path: Path) -> None:
    _archive(tmp_path)
    corpus = load_20newsgroups(tmp_path, categories=["sci.space"], strip_headers=True)
    assert set(corpus.train.labels) == {"sci.space"}
    assert corpus.train.texts[0].startswith("Body line one.\n\nBody line two.")
    with pytest.raises(ValueError, match="unknown 20 Newsgroups categories"):
        load_20newsgroups(tmp_path, categories=["alt.nothing"])


def test_missing_archive(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="20 Newsgroups archive not found"):
        load_20newsgroups(tmp_path / "absent.tar.gz")


@pytest.mark.skipif(
    not default_archive().is_file(), reason=f"20 Newsgroups archive absent: {default_archive()}"
)
def test_real_archive_sizes() -> None:
    corpus = load_20newsgroups()
    assert (len(corpus.train), len(corpus.test)) == (11314, 7532)
    assert len(corpus.categories) == 20
