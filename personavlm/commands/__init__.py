"""The command line's commands: one module each, named in ``COMMANDS``. A module has
``add_arguments(parser)`` and ``run(args) -> exit code``; ``personavlm.cli`` imports only
the module of the command it runs, so a command that only reads the store loads neither
LangGraph nor a model."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    """As typed: one word, or a group and a word ("bench store")."""
    help: str
    module: str
    """The module under ``personavlm.commands`` that adds its arguments and runs it."""


#: Groups of commands: ``personavlm GROUP COMMAND``.
GROUPS = {
    "bench": "benchmarks (print a table, write JSON + PNG)",
    "eval": "benchmarks of personalization: every system side by side (JSON, Markdown, PNG)",
}

COMMANDS: tuple[Command, ...] = (
    Command("demo", "replay the bundled conversation with the offline model and show what "
                    "it remembers", "demo"),
    Command("chat", "talk to the assistant (/image PATH, /quit)", "chat"),
    Command("ingest", "replay a Persona-MME user_data.json or a LoCoMo file into a user's "
                      "memory", "ingest"),
    Command("ask", "one question, answered from memory, not stored", "ask"),
    Command("memories", "list what is remembered about a user", "memories"),
    Command("forget", "forget a turn (with the reply of its exchange), a session or a user, "
                      "with every memory and summary their text reached", "forget"),
    Command("status", "a user's memory work: turns extracted, pending or failed, sessions "
                      "consolidated or not, and every failure with its error", "status"),
    Command("users", "the users whose memories the store holds", "users"),
    Command("sync", "run a user's pending memory work (extraction, consolidation of "
                    "finished sessions) to completion and exit; exit code 1 if some failed",
            "sync"),
    Command("repair", "set damaged records of the embedded store aside (kept in each user's "
                      "quarantine folder) and keep every intact one; a user with a file "
                      "that cannot be read is left as it is; exit code 1 if some user could "
                      "not be repaired or acknowledged writes could not be recovered (each "
                      "is named)", "repair"),
    Command("graph", "write the user's memory as an HTML page", "graph"),
    Command("bench retrieval", "evidence recall@k of bm25, dense and hybrid search on LoCoMo",
            "bench_retrieval"),
    Command("bench store", "write throughput and search latency of a backend", "bench_store"),
    Command("bench faults", "acknowledged writes against what survives SIGKILL, a flipped "
                            "byte, a journal truncated, cut at a record boundary, emptied or "
                            "deleted, a full disk (a tmpfs, where unshare can mount one) and "
                            "a kill with memory work pending", "bench_faults"),
    Command("bench serve", "the served agent under load (langgraph dev, a FAKE chat model): "
                           "run and store-search latency, nothing leaked, nothing lost",
            "bench_serve"),
    Command("bench agent", "per-turn latency and tokens of the agent with the offline model",
            "bench_agent"),
    Command("bench llama", "llama.cpp prompt and generation tokens/s: builds and OpenMP wait "
                           "policies, one process alone and several at once", "bench_llama"),
    Command("bench tools", "how reliably a chat model calls the memory tools (the offline "
                           "model by default)", "bench_tools"),
    Command("eval locomo", "LoCoMo QA: token F1 per category and evidence recall",
            "eval_locomo"),
    Command("eval assistant", "the assistant set: long-term conversations heard as a person "
                              "says them, then probes, reply checks, traits", "eval_assistant"),
    Command("eval persona-mme", "Persona-MME protocol: multiple choice per task and aspect, "
                                "with alignment", "eval_persona_mme"),
    Command("eval persona-mme-fixture", "write the small Persona-MME-format fixture",
            "eval_persona_mme_fixture"),
    Command("eval visual", "visual memory of a pet (Yo'LLaVA): needs a vision model",
            "eval_visual"),
    Command("eval personality", "Big Five inference on scripted dialogues: shown traits "
                                "found, others left neutral", "eval_personality"),
    Command("eval extraction", "memories of labelled dialogues (updates, duplicates, "
                               "assistant echoes, junk): precision and recall",
            "eval_extraction"),
)
