"""What the access hardening costs, and what it buys (issue 15).

    .venv/bin/python benchmarks/bench_access.py [--records 2000] [--flood 16]

1. Audit append: p50/p95 of `AuditLog.append` (keyed HMAC chain + the signed head checkpoint read, checked and
   written beside the key) against the same append with the checkpoint switched off: its cost as a ratio.
2. Start-up verification: `AuditLog.verify()` over `--records` records (what `serve` runs before it starts), as
   milliseconds per 1,000 records.
3. Login flood: a real server (`ui.build.serve`, bcrypt cost 12) receives `--flood` concurrent wrong-password
   logins while a logged-in client keeps fetching `/gradio_api/user`; its latency during the flood over its latency
   at rest, with the login check as shipped (async, bcrypt in threads) and as it was (a plain function Gradio runs
   on its event loop). The flood comes from one client address, so after 3 failures the rest are refused unchecked.
Writes benchmarks/results/access.json. No assertion: the numbers are for reading.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.access import audit as audit_module
from assistant.access.audit import AuditLog

RESULTS = Path(__file__).resolve().parent / "results" / "access.json"


def _times(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return sorted(out)


def _pct(values: list[float], q: float) -> float:
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


def bench_append(root: Path, n: int = 200) -> dict[str, Any]:
    payload = {"question": "Who used the phone?", "status": "answered", "answer": "x" * 400}
    log = AuditLog(root / "b" / "audit.sqlite")
    with_cp = _times(lambda: log.append("answer", "u", "c", payload), n)
    real, real_check = audit_module.advance_checkpoint, AuditLog._check_head
    audit_module.advance_checkpoint = lambda *a, **k: None  # type: ignore[assignment]
    AuditLog._check_head = lambda *a, **k: None  # type: ignore[method-assign]  # neither read nor write the head
    try:
        bare = AuditLog(root / "c" / "audit.sqlite")
        without = _times(lambda: bare.append("answer", "u", "c", payload), n)
    finally:
        audit_module.advance_checkpoint, AuditLog._check_head = real, real_check  # type: ignore[method-assign]
    return {"appends": n, "p50_ms": _pct(with_cp, 0.5), "p95_ms": _pct(with_cp, 0.95),
            "p50_ms_without_checkpoint": _pct(without, 0.5),
            "checkpoint_ratio_p50": round(_pct(with_cp, 0.5) / max(_pct(without, 0.5), 1e-6), 2)}


def bench_verify(root: Path, records: int) -> dict[str, Any]:
    log = AuditLog(root / "v" / "audit.sqlite")
    payload = {"question": "q" * 80, "answer": "a" * 600, "citations": [{"n": 1, "chunk_id": "c:1"}]}
    for _ in range(records):
        log.append("answer", "reviewer1", "kestrel", payload)
    runs = _times(lambda: log.verify(), 3)
    return {"records": records, "verify_ms": runs[1], "ms_per_1000_records": round(runs[1] * 1000 / records, 1)}


def bench_flood(root: Path, flood: int, shipped: bool) -> dict[str, Any]:
    import httpx

    from assistant.app import App
    from assistant.config import load_settings
    from assistant.llm.runtime import free_port
    from assistant.ui import build

    app = App(load_settings(index_dir=root / ("shipped" if shipped else "before")))
    app.users.add_user("reviewer9", "a-good-password-9", "reviewer")
    app.settings.ui.port = free_port()
    original = build.make_auth
    if not shipped:  # the check as it was: a plain function, run by Gradio on its event loop
        build.make_auth = lambda a, throttle=None: (  # type: ignore[assignment]
            lambda u, p: bool(a.audit.append("login", u, "", {})) and a.users.authenticate(u, p) is not None)
    demo = build.serve(app, prevent_thread_lock=True)
    build.make_auth = original
    url = f"http://127.0.0.1:{app.settings.ui.port}"
    try:
        with httpx.Client(base_url=url, timeout=120) as probe:
            probe.post("/login", data={"username": "reviewer9", "password": "a-good-password-9"})
            rest = _times(lambda: probe.get("/gradio_api/user"), 20)

            def attack(i: int) -> None:
                with httpx.Client(base_url=url, timeout=120) as c:
                    c.post("/login", data={"username": "reviewer9", "password": f"wrong-{i}"})

            threads = [threading.Thread(target=attack, args=(i,)) for i in range(flood)]
            for t in threads:
                t.start()
            during = []
            while any(t.is_alive() for t in threads) and len(during) < 200:
                during += _times(lambda: probe.get("/gradio_api/user"), 1)
            for t in threads:
                t.join()
    finally:
        demo.close()
    during = sorted(during)
    checked, refused = len(app.audit.records(kind="login")), len(app.audit.records(kind="denied"))
    return {"login_check": "async, bcrypt in threads" if shipped else "sync on the event loop (before)",
            "password_checks": checked - 1, "refused_unchecked": refused,
            "flood": flood, "p50_ms_at_rest": _pct(rest, 0.5), "p50_ms_during_flood": _pct(during, 0.5),
            "max_ms_during_flood": round(max(during), 1) if during else 0.0,
            "slowdown_p50": round(_pct(during, 0.5) / max(_pct(rest, 0.5), 1e-6), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--flood", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        result = {"append": bench_append(root), "verify": bench_verify(root, args.records),
                  "flood": [bench_flood(root, args.flood, shipped) for shipped in (False, True)]}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
