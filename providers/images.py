"""Normalise the images a user shares: a path, raw bytes, base64 text or a PIL image.

Every form becomes a ``LoadedImage``: decoded once (so a broken file fails here, before
anything is stored), re-encoded as PNG or JPEG, and addressed by the SHA-256 of its bytes.
URLs are refused on purpose: the assistant runs offline and must not fetch anything. File
paths are for in-process callers only: a network client (``allow_paths=False``) sends bytes,
base64 or a data URL, never a name of a file on the server. A string is data when its
content says so (a data URL, or base64 of an image): it is never asked of the file system,
and a name no file system can hold is an ``InvalidInputError``, not an ``OSError``. Limits
in bytes and pixels are checked before the pixels are decoded, so a decompression bomb
costs nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from memory_graph.errors import InvalidInputError

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
#: Linux's PATH_MAX: a longer string names no file.
MAX_PATH_CHARS = 4096
PATHS_REFUSED = ("images from network clients are sent as bytes, base64 or a data URL; "
                 "file paths are only for in-process callers (Python, the command line)")

ImageSource = str | bytes | Path | PILImage.Image | dict[str, Any]


@dataclass(frozen=True)
class LoadedImage:
    data: bytes
    mime: str
    sha256: str
    width: int
    height: int
    caption: str = ""

    def pil(self) -> PILImage.Image:
        return PILImage.open(io.BytesIO(self.data)).convert("RGB")

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"

    @property
    def suffix(self) -> str:
        return ".jpg" if self.mime == "image/jpeg" else ".png"


def load_image(source: ImageSource, caption: str = "", *,
               allow_paths: bool = True) -> LoadedImage:
    """Decode one image. ``source`` may also be ``{"path"|"base64": ..., "caption": ...}``,
    the JSON form used over the LangGraph server: ``path`` is always a file path, ``base64``
    (or ``data``) always base64 or a data URL. With ``allow_paths=False`` (a network
    client) a file path is refused and a string must be base64 or a data URL."""
    if isinstance(source, dict):
        caption = str(source.get("caption") or caption)
        if "path" in source:
            if not allow_paths:
                raise InvalidInputError(PATHS_REFUSED)
            return _from_path(Path(str(source["path"])), caption)
        data = source.get("base64") or source.get("data")
        if data is None:
            raise InvalidInputError("an image dict needs 'path' or 'base64'")
        if isinstance(data, str):
            return _from_data(data.strip(), caption)
        return load_image(data, caption, allow_paths=False)
    if isinstance(source, PILImage.Image):
        _check_pixels(source.width, source.height)
        return _from_pil(source, caption)
    if isinstance(source, bytes):
        return _from_bytes(source, caption)
    if isinstance(source, Path):
        if not allow_paths:
            raise InvalidInputError(PATHS_REFUSED)
        return _from_path(source, caption)
    if isinstance(source, str):
        return _from_text(source.strip(), caption, allow_paths)
    raise InvalidInputError(f"unsupported image type {type(source).__name__}")


def _from_text(text: str, caption: str, allow_paths: bool) -> LoadedImage:
    """A string decided by its content: a data URL or base64 of an image is data; else,
    where paths are allowed, the file it names; else base64 of something else (which then
    fails to decode, saying so)."""
    if text.startswith(("http://", "https://")):
        raise InvalidInputError("image URLs are not fetched; pass bytes or base64")
    if text.startswith("data:"):
        return _from_data(text, caption)
    raw = _base64(text)
    if raw is not None and _is_image(raw):
        return _from_bytes(raw, caption)
    path = file_named(text) if allow_paths else None
    if path is not None:
        return _from_path(path, caption)
    if raw is not None:
        return _from_bytes(raw, caption)
    if allow_paths:
        shown = text if len(text) <= 200 else text[:200] + "..."
        raise InvalidInputError(f"image {shown!r}: no such file (relative paths are from "
                                f"{Path.cwd()}), and not base64 of an image")
    raise InvalidInputError(f"image text is neither base64 nor a data URL; {PATHS_REFUSED}")


def _from_data(text: str, caption: str) -> LoadedImage:
    """Text given as data (a data URL, an image dict's ``base64``): never a path."""
    raw = _base64(text)
    if raw is None:
        raise InvalidInputError("image data is neither base64 nor a data URL")
    return _from_bytes(raw, caption)


def _base64(text: str) -> bytes | None:
    """The bytes base64 text (or a data URL's payload) stands for; None when it is not
    base64."""
    if text.startswith("data:"):
        text = text.partition(",")[2]
    if len(text) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise InvalidInputError(f"image is larger than {MAX_IMAGE_BYTES} bytes")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _is_image(raw: bytes) -> bool:
    """Whether an image format recognises ``raw`` (from its header: nothing is decoded)."""
    try:
        with PILImage.open(io.BytesIO(raw)):
            return True
    except PILImage.DecompressionBombError:
        return True  # an image: _from_bytes refuses it, saying why
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False


def file_named(name: str | Path) -> Path | None:
    """The existing file ``name`` names (``~`` expanded), else None; None too for a name
    no file system can hold (longer than a path or a file name may be, a lone surrogate, a
    NUL), which the file system would answer with an error instead of "no such file"."""
    if len(str(name)) >= MAX_PATH_CHARS:
        return None
    try:
        path = Path(name).expanduser()
        return path if path.is_file() else None
    except (OSError, ValueError, RuntimeError):  # RuntimeError: no home for '~'
        return None


def shown(name: str | Path) -> str:
    """A name for a message: quoted, escaped (a lone surrogate cannot be printed), short."""
    text = str(name)
    return repr(text if len(text) <= 80 else f"{text[:80]}...")


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise InvalidInputError(f"image has {width}x{height} pixels; the limit is "
                                f"{MAX_IMAGE_PIXELS}")


def _from_path(path: Path, caption: str) -> LoadedImage:
    found = file_named(path)
    if found is None:
        raise InvalidInputError(f"image file {shown(path)} does not exist")
    try:
        if found.stat().st_size > MAX_IMAGE_BYTES:
            raise InvalidInputError(f"image file {shown(path)} is larger than "
                                    f"{MAX_IMAGE_BYTES} bytes")
        raw = found.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read image file {shown(path)}: {exc.strerror}") from exc
    return _from_bytes(raw, caption)


def _from_bytes(raw: bytes, caption: str) -> LoadedImage:
    if not raw:
        raise InvalidInputError("empty image data")
    if len(raw) > MAX_IMAGE_BYTES:
        raise InvalidInputError(f"image is larger than {MAX_IMAGE_BYTES} bytes")
    try:
        with PILImage.open(io.BytesIO(raw)) as probe:
            _check_pixels(probe.width, probe.height)
            probe.load()
            return _from_pil(probe, caption)
    except InvalidInputError:
        raise
    except PILImage.DecompressionBombError as exc:
        raise InvalidInputError(f"image has too many pixels (the limit is "
                                f"{MAX_IMAGE_PIXELS}): {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInputError(f"cannot decode image: {exc}") from exc


def _from_pil(image: PILImage.Image, caption: str) -> LoadedImage:
    if image.width == 0 or image.height == 0:
        raise InvalidInputError("image has no pixels")
    buffer = io.BytesIO()
    if image.format == "JPEG" or image.mode == "CMYK":
        image.convert("RGB").save(buffer, format="JPEG", quality=92)
        mime = "image/jpeg"
    else:
        image.convert("RGBA" if "A" in image.getbands() else "RGB").save(buffer, format="PNG")
        mime = "image/png"
    data = buffer.getvalue()
    return LoadedImage(data=data, mime=mime, sha256=hashlib.sha256(data).hexdigest(),
                       width=image.width, height=image.height, caption=caption.strip())
