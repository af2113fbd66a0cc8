"""A media key reaches only the user's own folder: the 64-hex hash and the suffix are
checked wherever a key is used (load, save, discard), whatever the run's state says."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory_graph.errors import InvalidInputError
from memory_graph.media import MediaStore

GOOD = "ab" * 32


@pytest.mark.parametrize("sha256, suffix", [
    ("./" * 20 + "../../../" + "victim_00000000", ".png"),
    ("../" * 21 + "x", ".png"),
    ("/" + "a" * 63, ".jpg"),
    ("A" * 64, ".png"),          # upper case: not what the store writes
    ("g" * 64, ".png"),
    (GOOD[:-1], ".png"),
    (GOOD, ".gif"),
    (GOOD, "/../../x.png"),
    (GOOD + "\n", ".png"),
])
def test_a_bad_media_key_is_refused_by_every_file_operation(tmp_path: Path, sha256: str,
                                                             suffix: str) -> None:
    victim = tmp_path / "victim_00000000.png"
    victim.write_bytes(b"x")
    media = MediaStore(tmp_path / "data" / "media")
    for operation in (lambda: media.load("bob", sha256, suffix),
                      lambda: media.save("bob", sha256, suffix, b"y"),
                      lambda: media.discard("bob", sha256, suffix)):
        with pytest.raises(InvalidInputError):
            operation()
    assert victim.read_bytes() == b"x"


def test_a_good_key_is_a_file_in_the_users_folder(tmp_path: Path) -> None:
    media = MediaStore(tmp_path)
    path = media.save("bob", GOOD, ".png", b"png")
    assert path.parent == media.user_dir("bob") and path.name == f"{GOOD}.png"
    assert media.load("bob", GOOD, ".png") == b"png"
    media.discard("bob", GOOD, ".png")
    assert not path.exists()
