"""The embedding model's wordpiece tokenizer, used to size chunks in the model's own tokens.

Loaded from a local path only (the packaged all-MiniLM-L6-v2 by default); nothing is downloaded.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from transformers import PreTrainedTokenizerFast

from assistant.errors import ConfigError
from assistant.index.embedding import packaged_model_path
from assistant.offline import apply_offline_env

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def load_tokenizer(model_path: str = "") -> PreTrainedTokenizerFast:
    """The fast tokenizer of the model at `model_path` ("" = packaged all-MiniLM-L6-v2). Cached per path."""
    apply_offline_env()
    from transformers import AutoTokenizer

    path = model_path or packaged_model_path()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load a tokenizer from {path!r}: {exc}. Set ASSISTANT_EMBEDDING__MODEL_PATH to a "
                          "local sentence-transformers model folder, or leave it empty for the packaged model") from exc
    if not isinstance(tokenizer, PreTrainedTokenizerFast) or not tokenizer.is_fast:
        raise ConfigError(f"the tokenizer at {path!r} is not a fast tokenizer: exact character offsets need one")
    log.debug("tokenizer loaded class=%s vocab=%d", type(tokenizer).__name__, tokenizer.vocab_size)
    return tokenizer


def token_offsets(tokenizer: Any, text: str) -> list[tuple[int, int]]:
    """Char (start, end) of every wordpiece of `text`, special tokens excluded, never truncated."""
    if not text:
        return []
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False,
                        verbose=False)
    return [(int(s), int(e)) for s, e in encoded["offset_mapping"]]


def count_tokens(tokenizer: Any, text: str) -> int:
    """Number of wordpieces in `text` without special tokens ([CLS]/[SEP] add 2 when embedding)."""
    if not text:
        return 0
    encoded = tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)
    return len(encoded["input_ids"])
