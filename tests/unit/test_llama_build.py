"""Set-up's choice of llama-cpp-python build: portable options derived from the CPU's own
flags, AMX and -march=native never on, and a cache key that changes with the CPU."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "llama_build.py"

XEON_AMX = ("fpu sse4_2 avx avx2 bmi2 fma f16c avx_vnni avx512f avx512cd avx512vl avx512dq "
            "avx512bw avx512vbmi avx512_vnni avx512_bf16 amx_tile amx_int8 amx_bf16")
EPYC_ZEN3 = "fpu sse4_2 avx avx2 bmi2 fma f16c"


@pytest.fixture(scope="module")
def build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("llama_build", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["llama_build"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _cpu(build: ModuleType, flags: str, machine: str = "x86_64") -> object:
    return build.Cpu(machine=machine, model="test cpu", flags=frozenset(flags.split()))


def test_amx_cpu_gets_avx512_without_amx_or_native(build: ModuleType) -> None:
    tiers = build.tiers_for(_cpu(build, XEON_AMX))
    first = set(tiers[0].cmake_args)
    assert {"-DGGML_NATIVE=OFF", "-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF",
            "-DGGML_AMX_BF16=OFF"} <= first
    assert {"-DGGML_AVX512=ON", "-DGGML_AVX512_VBMI=ON", "-DGGML_AVX512_VNNI=ON",
            "-DGGML_AVX512_BF16=ON", "-DGGML_AVX_VNNI=ON"} <= first
    assert not any(arg.endswith("=ON") and "AMX" in arg for t in tiers for arg in t.cmake_args)
    assert [t.name for t in tiers] == ["cpu", "x86-64-v3", "baseline"]


def test_cpu_without_avx512_never_gets_it(build: ModuleType) -> None:
    tiers = build.tiers_for(_cpu(build, EPYC_ZEN3))
    assert "-DGGML_AVX512=OFF" in tiers[0].cmake_args
    assert "-DGGML_AVX2=ON" in tiers[0].cmake_args
    # Its own flags are exactly x86-64-v3, so that tier is not built twice.
    assert [t.name for t in tiers] == ["cpu", "baseline"]


def test_partial_avx512_is_not_enabled(build: ModuleType) -> None:
    tiers = build.tiers_for(_cpu(build, EPYC_ZEN3 + " avx512f avx512cd"))
    assert "-DGGML_AVX512=OFF" in tiers[0].cmake_args


def test_cache_key_differs_between_cpus_and_is_stable(build: ModuleType) -> None:
    amx = build.tiers_for(_cpu(build, XEON_AMX))[0]
    zen3 = build.tiers_for(_cpu(build, EPYC_ZEN3))[0]
    assert amx.key() != zen3.key()
    assert amx.key() == build.tiers_for(_cpu(build, XEON_AMX))[0].key()
    cache = Path("/cache")
    assert amx.directory(cache) != zen3.directory(cache)
    assert amx.key() in amx.directory(cache).name


def test_failed_tier_is_skipped_on_that_cpu_only(build: ModuleType, tmp_path: Path) -> None:
    xeon = _cpu(build, XEON_AMX)
    first = build.tiers_for(xeon)[0]
    marker = build.failure_file(first, xeon, tmp_path)
    marker.parent.mkdir(parents=True)
    marker.write_text("{}")
    assert [t.name for t in build.usable_tiers(xeon, tmp_path)] == ["x86-64-v3", "baseline"]
    other = build.Cpu(machine="x86_64", model="another xeon", flags=xeon.flags)
    assert build.usable_tiers(other, tmp_path)[0].name == "cpu"


def test_install_keeps_a_venv_holding_this_build_and_replaces_any_other(
        build: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def run(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        if command[-1] != "--version":  # the compiler's version is part of the key
            calls.append(command)
        return subprocess.CompletedProcess(command, 0, stdout="cc (test) 12.2.0\n")

    monkeypatch.setattr(build.subprocess, "run", run)
    tier = build.tiers_for(_cpu(build, XEON_AMX))[0]
    wheel_dir = tier.directory(tmp_path / "cache")
    wheel_dir.mkdir(parents=True)
    (wheel_dir / f"llama_cpp_python-{build.LLAMA_CPP_VERSION}-cp311-cp311-linux_x86_64.whl"
     ).write_text("")
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / build.VENV_MARKER).write_text('{"key": "built-natively-elsewhere"}')
    build.install(tier, venv, tmp_path / "cache")
    assert calls and "--force-reinstall" in calls[0]
    assert build.venv_marker(venv)["key"] == tier.key()
    calls.clear()
    build.install(tier, venv, tmp_path / "cache")
    assert calls == []


def test_a_crashing_check_is_a_build_failure_and_a_wrong_answer_too(build: ModuleType) -> None:
    crash = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]
    ok, report = build.decode_check(crash)
    assert not ok and "signal 11" in report
    wrong = [sys.executable, "-c", "print('Lyon'); raise SystemExit(3)"]
    assert build.decode_check(wrong) == (False, "Lyon")
    assert build.decode_check([sys.executable, "-c", "print('Paris')"]) == (True, "Paris")


def test_any_other_check_failure_stops_set_up(build: ModuleType) -> None:
    with pytest.raises(SystemExit, match="cannot fix"):
        build.decode_check([sys.executable, "-c", "raise FileNotFoundError('no model')"])


def test_verify_falls_back_to_the_next_tier_and_remembers(
        build: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    xeon = _cpu(build, XEON_AMX)
    installed: list[str] = []
    monkeypatch.setattr(build, "read_cpu", lambda: xeon)
    monkeypatch.setattr(build, "install", lambda tier, venv, cache: installed.append(tier.name))
    monkeypatch.setattr(build, "decode_check", lambda command: (
        (False, "the decode check was killed by signal 11") if installed[-1] == "cpu"
        else (True, "Paris")))
    build.command_verify(tmp_path / "venv", tmp_path)
    assert installed == ["cpu", "x86-64-v3"]
    installed.clear()
    build.command_verify(tmp_path / "venv", tmp_path)
    assert installed == ["x86-64-v3"]
