"""date_words (assistant/index/bm25.py) µs per chunk on bench_scale's synthetic messages, against the regex version
kept in tests/test_date_words.py. Run: PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_date_words.py"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from bench_scale import message_chunks
from test_date_words import old_date_words

from assistant.index.bm25 import date_words


def main() -> None:
    texts = [c.text for c in message_chunks("s", 0, 20_000, 400, random.Random(7))]
    load = Path("/proc/loadavg").read_text().split()[:3]
    for _ in range(3):
        for name, fn in (("regex", old_date_words), ("new", date_words)):
            t = time.perf_counter()
            out = [fn(x) for x in texts]
            us = (time.perf_counter() - t) / len(texts) * 1e6
            print(f"{name:6s} {us:6.2f} us/chunk  dates {sum(map(len, out))}  load {' '.join(load)}")
    assert [date_words(x) for x in texts] == [old_date_words(x) for x in texts]


if __name__ == "__main__":
    main()
