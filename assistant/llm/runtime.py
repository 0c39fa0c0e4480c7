"""Start, watch and restart the local model's child process (`assistant.llm.child`).

The model never runs inside the app: a native crash, a hang or an out-of-memory kill costs the child, which the next
request starts again. The child listens on a free loopback port and accepts only the random API key this process
gives it, so other local users cannot borrow it. It exits with its parent
(a parent-pid watch in the child, and `stop()` at exit).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

from assistant.errors import BackendUnavailable
from assistant.offline import OFFLINE_ENV
from assistant.procs import describe_exit, free_port, stop_process

log = logging.getLogger(__name__)

_LOG_TAIL_CHARS = 800


class LocalRuntime:
    """One child model server for one GGUF file. Thread-safe; `ensure_started()` returns its base URL."""

    def __init__(self, model_path: Path, *, alias: str, threads: int, n_ctx: int, memory_mb: int,
                 start_timeout_s: float, log_dir: Path) -> None:
        self.model_path = model_path
        self.alias = alias
        self.threads = threads
        self.n_ctx = n_ctx
        self.memory_mb = memory_mb
        self.start_timeout_s = start_timeout_s
        self.log_dir = log_dir
        self.api_key = secrets.token_urlsafe(24)
        self.starts = 0
        self.last_start_s = 0.0
        self._process: subprocess.Popen[bytes] | None = None
        self._port = 0
        self._log_path: Path | None = None
        self._lock = threading.Lock()
        atexit.register(self.stop)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def exited(self, within_s: float = 2.0) -> bool:
        """True when the child has ended or ends within `within_s` (a dropped connection can be seen a moment
        before the kernel reports the process dead)."""
        if self._process is None:
            return True
        try:
            self._process.wait(timeout=within_s)
        except subprocess.TimeoutExpired:
            return False
        return True

    def exit_reason(self) -> str:
        return describe_exit(self._process.poll() if self._process is not None else None)

    def ensure_started(self) -> str:
        with self._lock:
            if not self.alive():
                if self._process is not None:
                    log.warning("llm.runtime restart model=%s previous=%s", self.alias, self.exit_reason())
                self._start()
            return self.base_url

    def _start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._port = free_port()
        self._log_path = self.log_dir / "llm-runtime.log"
        cmd = [sys.executable, "-m", "assistant.llm.child", "--model", str(self.model_path), "--port",
               str(self._port), "--threads", str(self.threads), "--ctx", str(self.n_ctx), "--alias", self.alias,
               "--memory-mb", str(self.memory_mb), "--parent", str(os.getpid())]
        env = {**os.environ, **OFFLINE_ENV, "ASSISTANT_RUNTIME_KEY": self.api_key}
        started = time.perf_counter()
        with self._log_path.open("ab") as log_file:
            self._process = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             env=env, close_fds=True)
        self.starts += 1
        self._wait_ready(started)
        self.last_start_s = time.perf_counter() - started
        log.info("llm.runtime started model=%s pid=%s port=%d seconds=%.2f", self.alias, self.pid, self._port,
                 self.last_start_s)

    def _wait_ready(self, started: float) -> None:
        import httpx

        deadline = started + self.start_timeout_s
        while time.perf_counter() < deadline:
            if not self.alive():
                raise BackendUnavailable(f"The local model process {self.exit_reason()} while starting "
                                         f"({self.model_path.name}); see {self._log_path}: {self._tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self._port}/health", timeout=1.0, trust_env=False).status_code == 200:
                    return
            time.sleep(0.1)
        self._kill()
        raise BackendUnavailable(f"The local model did not start within {self.start_timeout_s:.0f}s "
                                 f"({self.model_path.name}): raise ASSISTANT_LLM__START_TIMEOUT_S or use a smaller "
                                 f"model; see {self._log_path}")

    def _tail(self) -> str:
        if self._log_path is None or not self._log_path.exists():
            return "(no log)"
        return self._log_path.read_text(errors="replace")[-_LOG_TAIL_CHARS:].strip().replace("\n", " | ")

    def _kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)

    def restart_after_failure(self) -> None:
        """A request failed while the child still runs (e.g. it hung past the timeout): end it; the next request
        starts a fresh one."""
        with self._lock:
            self._kill()

    def stop(self) -> None:
        with self._lock:
            stop_process(self._process)
