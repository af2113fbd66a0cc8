"""Pick, build, cache, install and check the llama-cpp-python build for this CPU.

llama.cpp's default build compiles with ``-march=native``. On Intel CPUs with AMX that
enables ggml's AMX kernel, which segfaulted on the first model call (issue 14), and a wheel
built natively on one machine may hold instructions another CPU lacks. So set-up never
builds natively: it builds with ``GGML_NATIVE=OFF`` and turns on exactly the instruction
sets this CPU reports, AMX always off (tier ``cpu``). If the real decode check then fails
(a signal, or a wrong answer), it falls back to ``x86-64-v3`` (AVX2/FMA/F16C/BMI2) and
finally ``baseline`` (no SIMD beyond SSE2), and remembers on this CPU which tier failed.

Each wheel lives in ``$PERSONAVLM_CACHE/wheels/llama-cpp-python/<version>-<tier>-<key>/``,
where the key hashes everything the binary depends on: package version, Python tag,
machine, compiler, the CMake options and the CPU features they were derived from. A home
directory shared between machines therefore never reuses a wheel built for other features.
The virtual environment records the key it installed (``.venv/personavlm-llama-build.json``),
so a venv built elsewhere, or by hand natively, is replaced.

Runs with the standard library only (it runs before the project is installed)::

    python scripts/llama_build.py install            # ensure the right wheel is installed
    python scripts/llama_build.py verify             # decode check, fall back on failure
    python scripts/llama_build.py show               # tiers, keys, cache state
    python scripts/llama_build.py forget             # drop this CPU's wheels: rebuild next
    python scripts/llama_build.py build --tier native --venv DIR   # comparison build only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

LLAMA_CPP_VERSION = "0.3.36"
REPO = Path(__file__).resolve().parent.parent
VENV_MARKER = "personavlm-llama-build.json"

#: x86 CPU flags (as /proc/cpuinfo spells them) each ggml option needs.
X86_OPTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("GGML_SSE42", ("sse4_2",)),
    ("GGML_AVX", ("avx",)),
    ("GGML_AVX2", ("avx2",)),
    ("GGML_BMI2", ("bmi2",)),
    ("GGML_FMA", ("fma",)),
    ("GGML_F16C", ("f16c",)),
    ("GGML_AVX_VNNI", ("avx_vnni",)),
    ("GGML_AVX512", ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw")),
    ("GGML_AVX512_VBMI", ("avx512f", "avx512vbmi")),
    ("GGML_AVX512_VNNI", ("avx512f", "avx512_vnni")),
    ("GGML_AVX512_BF16", ("avx512f", "avx512_bf16")),
)
#: The x86-64-v3 level: what nearly every x86 server of the last ten years has.
X86_V3 = {"GGML_SSE42", "GGML_AVX", "GGML_AVX2", "GGML_BMI2", "GGML_FMA", "GGML_F16C"}
#: Never on: ggml's AMX kernel crashed on AMX CPUs, and we never build -march=native.
ALWAYS_OFF = ("GGML_NATIVE", "GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16")


@dataclass(frozen=True)
class Cpu:
    machine: str
    model: str
    flags: frozenset[str]

    def fingerprint(self) -> str:
        text = json.dumps([self.machine, self.model, sorted(self.flags)])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Tier:
    name: str
    cmake_args: tuple[str, ...]
    features: tuple[str, ...]  # the CPU features the build relies on

    def key(self) -> str:
        text = json.dumps({
            "llama-cpp-python": LLAMA_CPP_VERSION,
            "python": f"cp{sys.version_info.major}{sys.version_info.minor}",
            "machine": platform.machine(),
            "compiler": compiler_version(),
            "cmake_args": list(self.cmake_args),
            "features": list(self.features),
        }, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def directory(self, cache: Path) -> Path:
        name = f"{LLAMA_CPP_VERSION}-{self.name}-{self.key()}"
        return cache / "wheels" / "llama-cpp-python" / name


def read_cpu() -> Cpu:
    machine = platform.machine()
    model, flags = "", set()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name in ("model name", "cpu part") and not model:
            model = value.strip()
        elif name in ("flags", "features"):
            flags.update(value.split())
    return Cpu(machine=machine, model=model, flags=frozenset(flags))


def compiler_version() -> str:
    compiler = os.environ.get("CC") or "cc"
    try:
        out = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.splitlines()[0] if out.stdout else "unknown"


def _x86_tier(name: str, enabled: set[str]) -> Tier:
    args = [f"-D{option}=OFF" for option in ALWAYS_OFF]
    features: set[str] = set()
    for option, needs in X86_OPTIONS:
        on = option in enabled
        args.append(f"-D{option}={'ON' if on else 'OFF'}")
        if on:
            features.update(needs)
    return Tier(name=name, cmake_args=tuple(args), features=tuple(sorted(features)))


def tiers_for(cpu: Cpu) -> list[Tier]:
    """Builds to try on this CPU, fastest first; each runs on the CPU that built it."""
    if cpu.machine in ("x86_64", "AMD64"):
        reported = {option for option, needs in X86_OPTIONS if set(needs) <= cpu.flags}
        candidates = [_x86_tier("cpu", reported), _x86_tier("x86-64-v3", reported & X86_V3),
                      _x86_tier("baseline", set())]
    elif cpu.machine in ("aarch64", "arm64"):
        # -mcpu=native is what llama.cpp tunes for on ARM; the key holds the CPU part and its
        # feature line, so only the same CPU reuses the wheel. armv8-a runs on every ARM64.
        candidates = [
            Tier("cpu", ("-DGGML_NATIVE=ON",), tuple(sorted(cpu.flags | {cpu.model}))),
            Tier("armv8-a", ("-DGGML_NATIVE=OFF", "-DGGML_CPU_ARM_ARCH=armv8-a"), ()),
        ]
    else:
        candidates = [Tier("generic", ("-DGGML_NATIVE=OFF",), (cpu.machine,))]
    unique: list[Tier] = []
    for tier in candidates:
        if all(tier.cmake_args != seen.cmake_args for seen in unique):
            unique.append(tier)
    return unique


def cache_root() -> Path:
    explicit = os.environ.get("PERSONAVLM_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "personavlm"


def failure_file(tier: Tier, cpu: Cpu, cache: Path) -> Path:
    return tier.directory(cache) / f"failed-on-{cpu.fingerprint()}.json"


def usable_tiers(cpu: Cpu, cache: Path) -> list[Tier]:
    return [tier for tier in tiers_for(cpu) if not failure_file(tier, cpu, cache).exists()]


def find_wheel(directory: Path) -> Path | None:
    wheels = sorted(directory.glob(f"llama_cpp_python-{LLAMA_CPP_VERSION}-*.whl"))
    return wheels[0] if wheels else None


def build_wheel(tier: Tier, directory: Path, python: str) -> Path:
    """Compile the wheel into a temporary folder and move it into ``directory`` only when
    complete, so an interrupted build never leaves a wheel that looks finished."""
    directory.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CMAKE_ARGS=" ".join(tier.cmake_args), FORCE_CMAKE="1")
    print(f"building llama-cpp-python {LLAMA_CPP_VERSION} for this CPU, tier {tier.name} "
          f"(about 5 minutes on 2 cores, once)\n  CMAKE_ARGS={env['CMAKE_ARGS']}",
          file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(dir=directory.parent) as scratch:
        subprocess.run([python, "-m", "pip", "wheel", "--no-deps", "--no-binary",
                        "llama-cpp-python", "--no-cache-dir", "--disable-pip-version-check",
                        "-w", scratch, f"llama-cpp-python=={LLAMA_CPP_VERSION}"],
                       env=env, check=True)
        built = find_wheel(Path(scratch))
        if built is None:
            raise SystemExit("pip wheel finished without producing a llama-cpp-python wheel")
        (directory / "build.json").write_text(json.dumps({
            "tier": tier.name, "key": tier.key(), "cmake_args": list(tier.cmake_args),
            "features": list(tier.features), "compiler": compiler_version(),
            "python": sys.version.split()[0], "machine": platform.machine(),
        }, indent=2) + "\n")
        target = directory / built.name
        shutil.move(str(built), target)
    return target


def venv_marker(venv: Path) -> dict[str, str]:
    try:
        data = json.loads((venv / VENV_MARKER).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def install(tier: Tier, venv: Path, cache: Path) -> None:
    python = str(venv / "bin" / "python")
    marker = venv_marker(venv)
    if marker.get("key") == tier.key():
        return
    wheel = find_wheel(tier.directory(cache)) or build_wheel(tier, tier.directory(cache), python)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "--force-reinstall", "--no-deps", str(wheel)], check=True)
    # llama-cpp-python's own small dependencies, from the registry as usual.
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(wheel)], check=True)
    (venv / VENV_MARKER).write_text(json.dumps(
        {"key": tier.key(), "tier": tier.name, "wheel": str(wheel)}, indent=2) + "\n")
    print(f"llama-cpp-python {LLAMA_CPP_VERSION}: installed tier {tier.name} ({wheel.name}, "
          f"key {tier.key()})", file=sys.stderr)


def check_command(venv: Path) -> list[str]:
    return [str(venv / "bin" / "python"), "-m", "providers.llama_runtime", "--check"]


def decode_check(command: list[str]) -> tuple[bool, str]:
    """A real decode of the default model in a child process (``check_command``), so a
    crash cannot take set-up down with it. Returns (ok, what happened)."""
    child = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if child.returncode < 0:
        return False, f"the decode check was killed by signal {-child.returncode}"
    if child.returncode == 3:
        return False, child.stdout.strip() or "the decode check gave a wrong answer"
    if child.returncode != 0:
        raise SystemExit(f"the model check failed for a reason a rebuild cannot fix:\n"
                         f"{child.stderr.strip()}")
    return True, child.stdout.strip()


def command_install(venv: Path, cache: Path) -> None:
    tiers = usable_tiers(read_cpu(), cache)
    if not tiers:
        raise SystemExit("every llama-cpp-python build failed its check on this CPU; "
                         f"see the failed-on-*.json files under {cache / 'wheels'}")
    install(tiers[0], venv, cache)


def command_verify(venv: Path, cache: Path) -> None:
    cpu = read_cpu()
    while True:
        tiers = usable_tiers(cpu, cache)
        if not tiers:
            raise SystemExit("no llama-cpp-python build decodes correctly on this CPU; "
                             "please report this with the output of "
                             "`python scripts/llama_build.py show`")
        tier = tiers[0]
        install(tier, venv, cache)
        ok, report = decode_check(check_command(venv))
        if ok:
            print(f"model check: {report} (llama.cpp tier {tier.name})", file=sys.stderr)
            return
        record = failure_file(tier, cpu, cache)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(
            {"tier": tier.name, "cpu": cpu.model, "error": report}, indent=2) + "\n")
        fallback = tiers[1].name if len(tiers) > 1 else "none left"
        print(f"\nllama.cpp build '{tier.name}' failed on this CPU: {report}.\n"
              f"Set-up rebuilds llama-cpp-python with a more portable configuration "
              f"({fallback}) and checks again; this build is not tried again on this CPU.\n",
              file=sys.stderr, flush=True)


def command_show(cache: Path) -> None:
    cpu = read_cpu()
    print(f"cpu: {cpu.model} ({cpu.machine}), fingerprint {cpu.fingerprint()}")
    for tier in tiers_for(cpu):
        directory = tier.directory(cache)
        state = ("failed here" if failure_file(tier, cpu, cache).exists()
                 else "cached" if find_wheel(directory) else "not built")
        print(f"{tier.name:10} key {tier.key()}  {state}\n  {' '.join(tier.cmake_args)}\n"
              f"  {directory}")


def command_forget(venv: Path, cache: Path) -> None:
    """Remove this CPU's cached wheels and failure records and the venv's build record, so
    the next set-up builds and checks again."""
    for tier in tiers_for(read_cpu()):
        directory = tier.directory(cache)
        if directory.exists():
            shutil.rmtree(directory)
            print(f"removed {directory}")
    (venv / VENV_MARKER).unlink(missing_ok=True)


def command_build(tier_name: str, venv: Path, cache: Path) -> None:
    """Build a tier into a scratch venv for comparison; ``native`` is llama.cpp's default
    ``-march=native`` build and is never cached."""
    if tier_name == "native":
        with tempfile.TemporaryDirectory() as scratch:
            native = Tier("native", ("-DGGML_NATIVE=ON",), ())
            wheel = build_wheel(native, Path(scratch) / "native", str(venv / "bin" / "python"))
            subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                            "--force-reinstall", str(wheel)], check=True)
        return
    matching = [tier for tier in tiers_for(read_cpu()) if tier.name == tier_name]
    if not matching:
        raise SystemExit(f"no tier {tier_name!r} on this CPU")
    install(matching[0], venv, cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["install", "verify", "show", "forget", "build"])
    parser.add_argument("--venv", type=Path, default=REPO / ".venv")
    parser.add_argument("--tier", default="cpu", help="with build: a tier name or 'native'")
    args = parser.parse_args()
    cache = cache_root()
    if args.command == "install":
        command_install(args.venv, cache)
    elif args.command == "verify":
        command_verify(args.venv, cache)
    elif args.command == "show":
        command_show(cache)
    elif args.command == "forget":
        command_forget(args.venv, cache)
    else:
        command_build(args.tier, args.venv, cache)


if __name__ == "__main__":
    main()
