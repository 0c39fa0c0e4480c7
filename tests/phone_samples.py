"""Where the public seized-phone fixtures are (setting `phone_samples`, default ../shared/phone_samples, relative
to the repository root). Tests that need them skip with the reason when the folder is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import load_settings
from tests.conftest import ROOT


def samples_dir() -> Path:
    folder = load_settings().phone_samples
    return folder if folder.is_absolute() else (ROOT / folder).resolve()


def sample(relative: str) -> Path:
    path = samples_dir() / relative
    if not path.is_file():
        pytest.skip(f"public phone fixture {relative} not found under {samples_dir()} (setting phone_samples)")
    return path
