"""llama.cpp's OpenMP wait setting: the project's default unless the user chose one."""

from __future__ import annotations

from providers.llama_runtime import OPENMP_DEFAULT_SPINCOUNT, openmp_environment


def test_short_spin_is_the_default() -> None:
    env = openmp_environment({"PATH": "/bin"})
    assert env["GOMP_SPINCOUNT"] == OPENMP_DEFAULT_SPINCOUNT
    assert "OMP_WAIT_POLICY" not in env


def test_a_wait_setting_the_user_chose_is_kept() -> None:
    assert openmp_environment({"OMP_WAIT_POLICY": "ACTIVE"}) == {"OMP_WAIT_POLICY": "ACTIVE"}
    assert openmp_environment({"GOMP_SPINCOUNT": "300000"}) == {"GOMP_SPINCOUNT": "300000"}
