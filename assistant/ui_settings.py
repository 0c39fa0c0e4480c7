"""The web UI's settings (`ui.*`) and the process-wide security switches (`security.*`), in their own module so
config.py stays within its size; config.py nests them."""

from __future__ import annotations

from pydantic import BaseModel, Field


class UISettings(BaseModel):
    host: str = Field("127.0.0.1", description="Bind address. Anything but loopback needs allow_remote and TLS "
                      "(tls_certfile, tls_keyfile); otherwise `serve` refuses to start")
    allow_remote: bool = Field(False, description="Explicitly allow binding beyond loopback (with TLS only)")
    tls_certfile: str = Field("", description="PEM certificate served when binding beyond loopback")
    tls_keyfile: str = Field("", description="PEM private key of tls_certfile")
    port: int = Field(7860, description="Gradio port")
    auth: bool = Field(True, description="Require login")
    ingest_roots: list[str] = Field(default_factory=list, description="Server folders the Admin tab's folder field "
                                    "may ingest from: a folder given there must resolve (after `..` and symlinks) "
                                    "inside one of these; empty = the folder field is refused (uploads still work). "
                                    "The CLI is not limited: it runs as the index's owner")


class SecuritySettings(BaseModel):
    kernel_egress: bool = Field(True, description="Every CLI command (serve and workers too) asks the kernel to refuse "
                                "native egress: Landlock TCP connect only to configured ports, seccomp no UDP/raw "
                                "sockets (assistant/kernel_egress.py, docs/security.md); where the kernel lacks "
                                "support it logs why and runs on. false = the Python guard only")
