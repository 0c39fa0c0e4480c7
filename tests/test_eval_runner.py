"""The eval gate, thresholds file and report writer, driven through the real runner with a tiny registered suite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evals import runner
from evals.report import write_report

SCORE = {"value": 0.9}


def _fake_suite(settings: Any, *, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    return {"n": 3, "accuracy": SCORE["value"], "nested": {"recall@5": 0.5}, "leaks": 0,
            "retrievers": {"bm25": {"ndcg@10": 0.6}, "hybrid": {"ndcg@10": SCORE["value"]}},
            "published": {"bm25": {"ndcg@10": 0.665}},
            "synth": {"ours": {"PERSON": {"precision": 0.8, "recall": 0.7, "f2": 0.72},
                               "PHONE_NUMBER": {"precision": 0.9, "recall": 0.6, "f2": 0.64},
                               "EMAIL_ADDRESS": {"precision": 1.0, "recall": 1.0, "f2": 1.0},
                               "overall": {"precision": 0.9, "recall": 0.8, "f2": 0.82}}},
            "curve": [{"threshold": 0.3, "refused_answerable": 0.1, "refused_unanswerable": 0.4},
                      {"threshold": 0.5, "refused_answerable": 0.3, "refused_unanswerable": 0.8}]}


def _broken_suite(settings: Any, *, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    raise RuntimeError("boom")


@pytest.fixture()
def fake_suite(tmp_path: Path) -> Iterator[Path]:
    runner.register_suite("fake", _fake_suite)
    runner.register_suite("broken", _broken_suite)
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text('[fake]\naccuracy = 0.8\n"nested.recall@5" = 0.4\nleaks = { max = 0 }\n')
    SCORE["value"] = 0.9
    yield thresholds
    runner.unregister_suite("fake")
    runner.unregister_suite("broken")


def test_gate_passes_above_threshold(fake_suite: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = runner.main(["fake", "--json", "--thresholds", str(fake_suite), "--no-progress"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["accuracy"] == 0.9 and out["gate"]["passed"] is True


def test_gate_fails_below_threshold_and_names_metric(fake_suite: Path, capsys: pytest.CaptureFixture[str]) -> None:
    SCORE["value"] = 0.5
    code = runner.main(["fake", "--thresholds", str(fake_suite), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 1
    assert "fake.accuracy = 0.5000 is below the threshold 0.8000" in out
    assert "gate: FAILED" in out


def test_gate_max_bound_missing_metric_and_broken_suite() -> None:
    bounds = [runner.Bound("s", "leaks", maximum=0), runner.Bound("s", "absent", minimum=0.1),
              runner.Bound("gone", "x", minimum=1.0)]
    failures = runner.check_gate({"s": {"leaks": 2}, "b": {"error": "RuntimeError: boom"},
                                  "gone": {"_skipped": "module missing"}}, bounds)
    assert failures == ["b: suite failed: RuntimeError: boom", "s.leaks = 2.0000 is above the maximum 0.0000",
                        "s.absent: missing from the suite's output"]


def test_broken_suite_is_reported_not_raised(fake_suite: Path) -> None:
    results = runner.run_many({"fake": False, "broken": False}, settings=None, progress=False)  # type: ignore[arg-type]
    assert results["broken"] == {"error": "RuntimeError: boom"}
    assert results["fake"]["accuracy"] == 0.9


def test_missing_suite_module_is_unavailable() -> None:
    runner.SUITE_MODULES["ghost"] = "evals.suites.does_not_exist"
    try:
        ok, reason = runner.suite_status("ghost")
        assert not ok and "does not exist" in reason
        assert runner.run_many({"ghost": True}, settings=None, progress=False)["ghost"]["_skipped"]  # type: ignore[arg-type]
    finally:
        del runner.SUITE_MODULES["ghost"]


def test_shipped_thresholds_parse_and_name_known_suites() -> None:
    bounds = runner.load_thresholds()
    assert bounds, "evals/thresholds.toml is empty"
    assert {b.suite for b in bounds} <= set(runner.SUITE_MODULES)
    assert all(b.minimum is not None or b.maximum is not None for b in bounds)
    assert set(runner.CI_SUITES) <= set(runner.SUITE_MODULES)


def test_bad_thresholds_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "t.toml"
    bad.write_text('[x]\nm = "high"\n')
    with pytest.raises(ValueError, match=r"x\.m"):
        runner.load_thresholds(bad)


def test_metric_path_with_dots_and_at() -> None:
    result = {"ndcg@10": 0.7, "retrievers": {"bm25": {"ndcg@10": 0.6}}, "a.b": {"c": 1}}
    assert runner.metric_at(result, "ndcg@10") == 0.7
    assert runner.metric_at(result, "retrievers.bm25.ndcg@10") == 0.6
    assert runner.metric_at(result, "a.b.c") == 1
    with pytest.raises(KeyError):
        runner.metric_at(result, "retrievers.dense.ndcg@10")


def test_report_writes_files(fake_suite: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "run"
    code = runner.main(["fake", "--out", str(out_dir), "--thresholds", str(fake_suite), "--no-progress"])
    assert code == 0
    names = {p.name for p in out_dir.iterdir()}
    assert {"metrics.json", "report.md", "fake_gate.png", "fake_retrievers.png", "fake_entities.png",
            "fake_curve.png"} <= names
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["suites"]["fake"]["accuracy"] == 0.9
    md = (out_dir / "report.md").read_text()
    assert "| fake | `accuracy` | 0.9000 | >= 0.8 | yes |" in md
    assert all((out_dir / n).stat().st_size > 1000 for n in names if n.endswith(".png"))


def test_write_report_on_small_dict(tmp_path: Path) -> None:
    report = {"meta": {"timestamp": "t", "commit": "", "target": "all", "seconds": 1.0},
              "suites": {"a": {"x": 0.5}, "b": {"_skipped": "missing"}},
              "gate": {"passed": False, "failures": ["a.x = 0.5 is below the threshold 0.6"]}}
    paths = write_report(report, tmp_path, [runner.Bound("a", "x", minimum=0.6)])
    assert {p.name for p in paths} == {"metrics.json", "report.md", "a_gate.png"}
    assert "Not run: missing" in (tmp_path / "report.md").read_text()


def test_history_summary_line() -> None:
    report = {"meta": {"timestamp": "t", "commit": "abc", "target": "ci", "seconds": 2.0},
              "suites": {"a": {"x": 0.51234}}, "gate": {"passed": True, "failures": []}}
    line = runner.summary_line(report, [runner.Bound("a", "x", minimum=0.5), runner.Bound("z", "y", minimum=1)])
    assert line == {"timestamp": "t", "commit": "abc", "target": "ci", "passed": True, "seconds": 2.0,
                    "metrics": {"a.x": 0.5123}}


def test_cli_main_unknown_suite(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.cli_main("nope") == 2
    assert "unknown suite" in capsys.readouterr().err


def test_scifact_abstract_parser_handles_numpy_repr() -> None:
    from evals.datasets import parse_sentence_array

    raw = "['It\\'s a \"test\" (n = 7).'\n 'Second, with [brackets].' \"Third's\"]"
    assert parse_sentence_array(raw) == ['It\'s a "test" (n = 7).', "Second, with [brackets].", "Third's"]
    assert parse_sentence_array("") == []


def test_token_windows_keep_every_word_within_budget() -> None:
    from evals.suites import token_windows

    def count(texts: list[str]) -> list[int]:  # one token per word
        return [len(t.split()) for t in texts]

    sentences = ["a b c d", "e f g", "h " * 25, "i j"]
    windows = token_windows("T", sentences, count, max_tokens=20)
    assert all(w.startswith("T\n") and len(w.split()) <= 20 for w in windows)
    assert len(windows) >= 3
    body = " ".join(w.split("\n", 1)[1] for w in windows).split()
    assert body == " ".join(sentences).split()
    assert token_windows("T", [], count, 10) == ["T"]


def test_sabotage_shuffles_only_when_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    from evals.suites import SABOTAGE_ENV, maybe_sabotage

    runs = {"q": [str(i) for i in range(30)]}
    monkeypatch.delenv(SABOTAGE_ENV, raising=False)
    assert maybe_sabotage(runs) == runs
    monkeypatch.setenv(SABOTAGE_ENV, "1")
    shuffled = maybe_sabotage(runs)["q"]
    assert shuffled != runs["q"] and sorted(shuffled[:20]) == sorted(runs["q"][:20])
    assert shuffled[20:] == runs["q"][20:]
