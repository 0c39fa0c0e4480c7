"""What the web server exposes: where it may listen, and no server-side URL fetching.

- Binding: loopback by default. Any other address only with `ui.allow_remote` set AND a TLS certificate and key
  (`ui.tls_certfile`, `ui.tls_keyfile`) that exist; otherwise `serve` refuses with a message saying what to set.
- Gradio (6.x) serves `/gradio_api/file=<http(s) url>` by fetching the URL on the server and streaming it back to
  any logged-in user; it has no switch for that. `NoRemoteFiles` answers such requests 403 before Gradio sees them
  (the egress guard would refuse the connection anyway; this keeps the attempt from starting).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from assistant.errors import ConfigError
from assistant.offline import is_loopback_host
from assistant.ui_settings import UISettings

log = logging.getLogger(__name__)

# `/file=<url>` or `/file/<url>` (any prefix, e.g. /gradio_api/), where the rest starts with a scheme or `//`
_REMOTE_FILE = re.compile(r"/file(?:=|/)\s*(?:[a-z][a-z0-9+.-]*:|[/\\]{2})", re.IGNORECASE)


def launch_options(ui: UISettings) -> dict[str, Any]:
    """Gradio `launch()` keywords for the bind address; raises ConfigError when the address is not loopback and
    remote serving was not explicitly configured with TLS."""
    host = ui.host.strip()
    if is_loopback_host(host):
        return {"server_name": host}
    if not ui.allow_remote:
        raise ConfigError(f"refusing to listen on {host!r}: only loopback (127.0.0.1) is served unless "
                          "ASSISTANT_UI__ALLOW_REMOTE=true is set together with ASSISTANT_UI__TLS_CERTFILE and "
                          "ASSISTANT_UI__TLS_KEYFILE")
    cert, key = ui.tls_certfile.strip(), ui.tls_keyfile.strip()
    if not cert or not key:
        raise ConfigError(f"refusing to listen on {host!r} without TLS: set ASSISTANT_UI__TLS_CERTFILE and "
                          "ASSISTANT_UI__TLS_KEYFILE (PEM files)")
    for label, path in (("certificate", cert), ("key", key)):
        if not Path(path).is_file():
            raise ConfigError(f"TLS {label} {path!r} does not exist or is not a file")
    log.warning("ui_remote_bind host=%s tls=1", host)
    return {"server_name": host, "ssl_certfile": cert, "ssl_keyfile": key}


def is_remote_file_request(path: str) -> bool:
    """True for a Gradio file route asking for a URL (percent-encoded forms included)."""
    decoded = path
    for _ in range(3):  # %2568ttp… decodes twice
        decoded = unquote(decoded)
    return bool(_REMOTE_FILE.search(decoded))


class NoRemoteFiles:
    """ASGI middleware: 403 for `/…/file=<url>` so the server never fetches a URL a browser names."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and is_remote_file_request(str(scope.get("path", ""))):
            log.warning("remote_file_refused")
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "http.response.body", "body": b"Fetching URLs through this server is disabled."})
            return
        await self.app(scope, receive, send)
