"""Cost of the conversation features, as ratios to an ordinary question on the demo case: a person digest (reads
every chunk of the case), a month summary, a question in two parts (two retrievals and answers), and the follow-up
rules, and a person's timeline (all events; the missing episodes). Then the digest's and the timeline's growth with
case size: `collect` over the demo passages repeated k times (in memory, so the curve is our code; reading the
chunks from Chroma is `read_ms_per_chunk`).

    .venv/bin/python benchmarks/bench_digest.py [--repeat 3]

Writes benchmarks/results/digest.json. Medians over repeats, warm (the first run of each is discarded)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.app import App
from assistant.config import load_settings
from assistant.conversation.digest import collect
from assistant.conversation.digest_request import DigestRequest
from assistant.conversation.person_timeline import collect as timeline_collect
from assistant.conversation.resolver import Turn, resolve
from assistant.conversation.timeline_request import TimelineRequest
from assistant.index.retrieval import stored_passage
from assistant.offline import apply_offline_env

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "digest.json"


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    apply_offline_env()
    with tempfile.TemporaryDirectory(prefix="bench-digest-") as tmp:
        settings = load_settings(index_dir=Path(tmp))
        settings.llm.backend = "extractive"
        app = App(settings)
        app.ingest([ROOT / "demo" / "operation-kestrel"], "kestrel", progress=False)
        ask = {
            "ordinary": "Who used 07700900418?",
            "profile": "What do we know about Marek Wolski?",
            "month": "Summarise what Marek Wolski did in March 2023",
            "two_parts": "When and where was Marek Wolski arrested?",
            "timeline": "Timeline of Marek Wolski",
            "missing_episodes": "When did Kacper go missing?",
        }
        ms = {k: median_ms(lambda q=q: app.ask("kestrel", q, user="bench"), args.repeat) for k, q in ask.items()}
        turns = [Turn("Who is Marek Wolski?", "Who is Marek Wolski?", "Marek WOLSKI [1].")]
        rules_ms = median_ms(lambda: [resolve("What car does he drive?", turns) for _ in range(1000)], args.repeat)
        chunks = list(app.store.iter_chunks("kestrel"))
        read_ms = median_ms(lambda: list(app.store.iter_chunks("kestrel")), args.repeat) / len(chunks)
        passages = [stored_passage(c, "kestrel") for c in chunks]
        request = DigestRequest("Marek Wolski")
        curve = []
        for k in (1, 10, 50):
            many = [replace(p, chunk_id=f"{p.chunk_id}#{i}", text=p.text + f" ({i})") for i in range(k)
                    for p in passages]
            curve.append({"passages": len(many), "collect_ms": round(median_ms(lambda m=many: collect(m, request),
                                                                               args.repeat), 1),
                          "timeline_collect_ms": round(median_ms(lambda m=many: timeline_collect(
                              m, TimelineRequest("Marek Wolski")), args.repeat), 1)})
    out = {
        "demo_chunks": len(chunks),
        "ask_ms": {k: round(v, 1) for k, v in ms.items()},
        "ratio_to_ordinary": {k: round(v / ms["ordinary"], 2) for k, v in ms.items() if k != "ordinary"},
        "followup_rules_us_per_question": round(rules_ms, 1),  # 1000 resolutions in ms = µs per question
        "read_ms_per_chunk": round(read_ms, 3),
        "collect_curve": curve,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
