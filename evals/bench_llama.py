"""Throughput of llama.cpp builds and OpenMP wait policies, alone and beside a second process.

Each measurement runs in fresh worker processes (``python -m evals.bench_llama --worker``)
that import nothing but ``llama_cpp``, so the interpreter of another virtual environment
(another build of llama-cpp-python) can be measured from this one. Workers load the model,
report ready, and all start together: prompt evaluation of ``prompt_tokens`` tokens, then
``gen_tokens`` greedy tokens one at a time. With two workers both run at once on the same
cores, as a test, the server or a second CLI command does beside a running demo.

Policies: ``libgomp-default`` leaves ``OMP_WAIT_POLICY`` unset (libgomp spins a while at
every barrier); ``passive`` sets it to PASSIVE, what the project runs with
(``providers.llama_runtime``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from evals.report import format_table, write_json

#: OpenMP environment of each wait policy measured (libgomp reads it when loaded).
POLICIES: dict[str, dict[str, str]] = {
    "libgomp-default": {},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "spin-1k": {"GOMP_SPINCOUNT": "1000"},
    "spin-3k": {"GOMP_SPINCOUNT": "3000"},
    "spin-10k": {"GOMP_SPINCOUNT": "10000"},
    "spin-100k": {"GOMP_SPINCOUNT": "100000"},
}
REPO = Path(__file__).resolve().parent.parent
PROMPT_TEXT = ("Maya told me about her week: she went camping by the lake with her brother, "
               "switched from coffee to green tea, and adopted a grey cat called Pixel. ")


def _worker(model: str, prompt_tokens: int, gen_tokens: int, threads: int) -> None:
    from llama_cpp import Llama  # the environment given by the parent decides OpenMP

    llm: Any = Llama(model_path=model, n_ctx=prompt_tokens + gen_tokens + 16, n_threads=threads,
                n_threads_batch=threads, n_batch=512, verbose=False)
    text = PROMPT_TEXT * (1 + prompt_tokens // 20)
    tokens = llm.tokenize(text.encode("utf-8"))[:prompt_tokens]
    llm.eval(tokens[:8])  # touch the weights once before timing
    llm.reset()
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    llm.eval(tokens)
    prompt_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(gen_tokens):
        token = llm.sample(top_k=1, temp=0.0)
        llm.eval([token])
    gen_seconds = time.perf_counter() - started
    print(json.dumps({"prompt_tok_s": len(tokens) / prompt_seconds,
                      "gen_tok_s": gen_tokens / gen_seconds,
                      "prompt_s": prompt_seconds, "gen_s": gen_seconds}), flush=True)


def run_concurrent(python: str, policy: str, processes: int, model: str, prompt_tokens: int,
                   gen_tokens: int, threads: int) -> list[dict[str, float]]:
    """Start ``processes`` workers, release them together, return each one's figures."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY",
                                                             "GOMP_SPINCOUNT")}
    env.update(POLICIES[policy])
    env["PYTHONPATH"] = str(REPO)
    command = [python, "-m", "evals.bench_llama", "--worker", "--model", model,
               "--prompt-tokens", str(prompt_tokens), "--gen-tokens", str(gen_tokens),
               "--threads", str(threads)]
    workers = [subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True, env=env, cwd=REPO) for _ in range(processes)]
    try:
        for worker in workers:
            assert worker.stdout is not None
            if worker.stdout.readline().strip() != "ready":
                raise RuntimeError(f"worker {python} did not start (exit {worker.wait()})")
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = []
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            if worker.wait() != 0 or not line:
                raise RuntimeError(f"worker {python} failed with exit code {worker.returncode}")
            results.append(json.loads(line))
        return results
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()


def _build_label(python: str) -> str:
    prefix = subprocess.run([python, "-c", "import sys; print(sys.prefix)"],
                            capture_output=True, text=True, check=True).stdout.strip()
    try:
        marker = json.loads((Path(prefix) / "personavlm-llama-build.json").read_text())
    except (OSError, ValueError):
        return "unmarked build"
    return f"tier {marker.get('tier')}"


def main(out: Path, builds: list[str], policies: list[str], processes: list[int],
         prompt_tokens: int, gen_tokens: int, repeats: int = 3, threads: int | None = None
         ) -> dict[str, Any]:
    from tqdm import tqdm

    from providers.gguf import default_gguf_path
    from providers.llama_runtime import default_threads

    model = str(default_gguf_path())
    threads = threads or default_threads()
    pairs = [(b.partition("=")[0], b.partition("=")[2] or _build_label(b.partition("=")[0]))
             for b in builds]
    rows: list[dict[str, Any]] = []
    plan = [(python, label, policy, count) for python, label in pairs for policy in policies
            for count in processes]
    for python, label, policy, count in tqdm(plan, desc="llama.cpp runs", unit="config"):
        runs = [run_concurrent(python, policy, count, model, prompt_tokens, gen_tokens,
                               threads) for _ in range(repeats)]
        rows.append({
            "build": label, "python": python, "policy": policy, "processes": count,
            # each run's mean over its processes; the median over the repeated runs
            "prompt_tok_s": statistics.median(
                statistics.mean(r["prompt_tok_s"] for r in run) for run in runs),
            "gen_tok_s": statistics.median(
                statistics.mean(r["gen_tok_s"] for r in run) for run in runs),
            "runs": runs})
    for row in rows:
        alone = next((r for r in rows if r["build"] == row["build"]
                      and r["policy"] == row["policy"] and r["processes"] == 1), None)
        row["slowdown_vs_alone"] = (None if alone is None else
                                    round((alone["prompt_tok_s"] / row["prompt_tok_s"]
                                           + alone["gen_tok_s"] / row["gen_tok_s"]) / 2, 2))
    table = format_table(
        ["build", "OpenMP wait", "processes", "prompt tok/s", "generation tok/s",
         "slowdown vs alone"],
        [[r["build"], r["policy"], r["processes"], f"{r['prompt_tok_s']:.1f}",
          f"{r['gen_tok_s']:.1f}", "-" if r["slowdown_vs_alone"] is None
          else f"{r['slowdown_vs_alone']:.2f}x"] for r in rows])
    print(table)
    payload = {"model": Path(model).name, "threads_per_process": threads,
               "prompt_tokens": prompt_tokens, "gen_tokens": gen_tokens, "repeats": repeats,
               "cpus": os.cpu_count(), "rows": rows}
    write_json(out, payload)
    out.with_suffix(".md").write_text(table + "\n", "utf-8")
    _plot(out.with_suffix(".png"), rows)
    print(f"wrote {out}, .md and .png")
    return payload


def _plot(path: Path, rows: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(max(8.0, 1.3 * len(rows)), 4.8))
    labels = [f"{r['build']}, {r['policy']}, {r['processes']} proc" for r in rows]
    for ax, key, title in zip(axes, ["prompt_tok_s", "gen_tok_s"],
                              ["prompt evaluation", "generation"], strict=True):
        ax.bar(range(len(rows)), [r[key] for r in rows],
               color=["#4c72b0" if r["processes"] == 1 else "#dd8452" for r in rows])
        ax.set_xticks(range(len(rows)), labels, fontsize=7, rotation=35, ha="right")
        ax.set_ylabel("tokens/s per process")
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _worker_main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--prompt-tokens", type=int, required=True)
    parser.add_argument("--gen-tokens", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()
    _worker(args.model, args.prompt_tokens, args.gen_tokens, args.threads)


if __name__ == "__main__":
    _worker_main()
