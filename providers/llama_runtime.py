"""How llama.cpp is loaded: thread count and OpenMP wait settings, and set-up's decode check.

llama.cpp's CPU backend runs each graph on an OpenMP team that meets at a barrier after
almost every operation. libgomp lets a waiting thread spin first (up to 300,000 rounds),
then sleep. With a second llama.cpp process on the same two cores, the spinning threads
take the cores from the working ones: a LoCoMo consolidation call once went from ~62 s to
881 s, and ``personavlm bench llama`` measures generation 4x slower per process.
``GOMP_SPINCOUNT=1000`` keeps a short spin (cheap when both threads arrive together) and
then sleeps, so two processes each run about 1.8x slower than alone; it costs about a fifth
of the speed of a process alone, less than ``OMP_WAIT_POLICY=PASSIVE`` (no spin at all),
which cost about two fifths of generation speed (docs/benchmarks.md has the table).
libgomp reads these variables when it is loaded, so they are set before ``llama_cpp`` is
first imported; if the user set either variable, nothing is changed.

``python -m providers.llama_runtime --check`` is set-up's decode check: it loads the
default model, asks a question with a known answer, and exits 0 (right), 3 (wrong answer:
a miscompiled build) or dies with the signal the build caused.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib
import logging
import os
import sys
import time
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np

#: The OpenMP wait setting llama.cpp runs with unless the user chose one.
OPENMP_WAIT_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
OPENMP_DEFAULT_SPINCOUNT = "1000"

CHECK_QUESTION = "What is the capital of France? Answer with one word."
CHECK_ANSWER = "paris"

#: Where llama.cpp's own log lines go (debug level; see ``import_llama_cpp``).
LLAMA_LOG = logging.getLogger("llama.cpp")


def _missing_openmp_defaults(environ: Mapping[str, str]) -> dict[str, str]:
    """The OpenMP default to add to ``environ``: none when the user chose a wait setting."""
    if any(name in environ for name in OPENMP_WAIT_VARIABLES):
        return {}
    return {"GOMP_SPINCOUNT": OPENMP_DEFAULT_SPINCOUNT}


def openmp_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: this process's) with the OpenMP defaults filled in: for a
    child process that runs llama.cpp (a ``llama_cpp.server``, a benchmark worker)."""
    merged = dict(os.environ if environ is None else environ)
    return merged | _missing_openmp_defaults(merged)


def configure_openmp() -> None:
    """Put the OpenMP defaults into this process's environment. Entry points call it before
    anything loads an OpenMP runtime (each copy of libgomp reads it once, when loaded)."""
    os.environ.update(_missing_openmp_defaults(os.environ))


class _LeaveOutputAlone:
    """Stands in for llama-cpp-python's ``suppress_stdout_stderr``, which points the whole
    process's stdout and stderr (file descriptors and ``sys`` streams) at /dev/null while
    a model loads: every other thread's output was lost meanwhile (a reply's timing line,
    the server's log and its shutdown notice), and two loads at once could leave them
    there. llama.cpp's own log lines are routed to ``LLAMA_LOG`` instead."""

    def __init__(self, disable: bool = True) -> None:
        self.disable = disable

    def __enter__(self) -> _LeaveOutputAlone:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def import_llama_cpp() -> ModuleType:
    """``llama_cpp``, imported after the OpenMP defaults are in the environment, with its
    process-wide output suppression replaced (``_LeaveOutputAlone``) and llama.cpp's log
    lines sent to ``LLAMA_LOG``."""
    configure_openmp()
    import llama_cpp
    import llama_cpp._internals
    import llama_cpp.llama
    import llama_cpp.llama_chat_format

    for module in (llama_cpp.llama, llama_cpp._internals, llama_cpp.llama_chat_format):
        module.suppress_stdout_stderr = _LeaveOutputAlone  # type: ignore[attr-defined]
    if not hasattr(llama_cpp, "personavlm_log_callback"):
        callback = llama_cpp.llama_log_callback(_log_to_logging)
        llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
        llama_cpp.personavlm_log_callback = callback  # type: ignore[attr-defined]  # C keeps a pointer
    return llama_cpp


def _log_to_logging(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    """llama.cpp's log lines, as debug records of the ``llama.cpp`` logger: they are load
    and memory notes (even a GGUF quirk that it calls an error); a real failure reaches
    the caller as an exception from llama-cpp-python."""
    message = text.decode("utf-8", errors="replace").rstrip()
    if message:
        LLAMA_LOG.debug("%s", message)


def default_threads() -> int:
    """The cores this process may run on (its CPU affinity), not every core of the host."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def load_llama(model_path: str, *, n_ctx: int, n_threads: int | None = None, seed: int = 7,
               llama_class: type[Any] | None = None) -> Any:
    """A ``Llama`` (or ``llama_class``, a subclass) with the project's thread settings. The
    file is read, not memory-mapped: llama.cpp repacks the weights for this CPU into a
    copy of its own, and mapped pages would count a second time in the process's memory."""
    module = import_llama_cpp()
    threads = n_threads or default_threads()
    kind = llama_class or module.Llama
    return kind(model_path=model_path, n_ctx=n_ctx, n_threads=threads,
                n_threads_batch=threads, n_batch=512, seed=seed, verbose=False,
                use_mmap=False)


def another_context(first: Any, llama_class: type[Any]) -> Any:
    """A second ``Llama`` (of ``llama_class``) on ``first``'s model: a context, a batch and
    token buffers of its own, the weights shared. Each ``Llama`` loading the file would
    hold its own copy of the weights (about 1.1 GB for the offline model, 0.3 GB for a
    context). Calls on the two must not overlap (``ComputeGate``); the new one keeps
    ``first`` alive, whose model it uses."""
    internals = importlib.import_module(f"{import_llama_cpp().__name__}._internals")
    twin = object.__new__(llama_class)  # not ``copy.copy``: a Llama's copy loads it again
    twin.__dict__.update(first.__dict__)
    twin._stack = contextlib.ExitStack()
    twin._ctx = twin._stack.enter_context(contextlib.closing(internals.LlamaContext(
        model=first._model, params=first.context_params, verbose=False)))
    twin._batch = twin._stack.enter_context(contextlib.closing(internals.LlamaBatch(
        n_tokens=first.n_batch, embd=0, n_seq_max=first.context_params.n_ctx, verbose=False)))
    twin._candidates = internals.LlamaTokenDataArray(n_vocab=first._n_vocab)
    twin.n_tokens = 0
    twin._requires_eval = True
    twin.input_ids = np.ndarray(first.input_ids.shape, dtype=np.intc)
    twin.scores = np.ndarray(first.scores.shape, dtype=np.single)
    twin._mirostat_mu = ctypes.c_float(10.0)
    twin._sampler = None
    twin.cache = None
    twin.shares_model_of = first
    return twin


def decode_check(model_path: str) -> tuple[bool, str]:
    """Greedy answer to a question with one right answer; (right, summary)."""
    llm = load_llama(model_path, n_ctx=512)
    started = time.perf_counter()
    output = llm.create_chat_completion(
        messages=[{"role": "user", "content": CHECK_QUESTION}], max_tokens=8,
        temperature=0.0)
    seconds = time.perf_counter() - started
    answer = (output["choices"][0]["message"].get("content") or "").strip()
    tokens = int(output.get("usage", {}).get("completion_tokens", 0))
    summary = (f"decoded {tokens} tokens in {seconds:.1f} s with "
               f"{default_threads()} threads: {answer!r}")
    return CHECK_ANSWER in answer.lower(), summary


def main() -> None:
    parser = argparse.ArgumentParser(description="Check that llama.cpp decodes the model.")
    parser.add_argument("--check", action="store_true", required=True)
    parser.add_argument("--model", help="GGUF file (default: the offline default model)")
    args = parser.parse_args()
    model = args.model
    if model is None:
        from providers.gguf import default_gguf_path

        model = str(default_gguf_path())
    ok, summary = decode_check(model)
    print(summary if ok else f"wrong answer from the model: {summary}", flush=True)
    sys.exit(0 if ok else 3)


if __name__ == "__main__":
    main()
