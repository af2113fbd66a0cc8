"""personavlm: a long-term personalized assistant that remembers what a user shares in a
temporal knowledge graph. Run `personavlm demo` for the main job, `personavlm chat --user U`
to talk, `personavlm COMMAND --help` for each command."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

from agent_runtime.context import DEFAULT_EXTRACTION_WINDOW, Context, ExtractionMode
from evals.bench_llama import POLICIES
from memory_graph.backends import BACKENDS
from memory_graph.errors import (
    ConfigurationError,
    MissingWritesError,
    PersonaVLMError,
    StoreCorruptedError,
    StoreUnreadableError,
)
from memory_graph.store import GraphStore
from providers.chat import CHAT_PROVIDERS
from providers.llama_runtime import configure_openmp


def _default_locomo() -> Path | None:
    """``$PERSONA_DATA_DIR/locomo/locomo_dev.json`` when that variable is set."""
    root = _data_dir()
    return root / "locomo" / "locomo_dev.json" if root else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="personavlm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser("bench", help="benchmarks (print a table, write JSON + PNG)")
    benches = bench.add_subparsers(dest="bench", required=True)

    retrieval = benches.add_parser(
        "retrieval", help="evidence recall@k of bm25, dense and hybrid search on LoCoMo")
    retrieval.add_argument("--data", type=Path, default=_default_locomo(),
                           help="LoCoMo-format JSON (default: $PERSONA_DATA_DIR/locomo/"
                                "locomo_dev.json, else the small bundled sample)")
    retrieval.add_argument("--out", type=Path, default=Path("results/retrieval.json"))
    retrieval.add_argument("--rerank-candidates", type=int, nargs="*", default=[], metavar="N",
                           help="also measure the default recipe reranking N candidates "
                                "(it reranks 40)")
    retrieval.add_argument("--methods", nargs="+", default=None, metavar="RECIPE",
                           help="the recipes to compare (default: bm25 dense hybrid "
                                "hybrid_graph)")
    retrieval.add_argument("--turns-per-user", type=int, default=0, metavar="N",
                           help="fill each user's store to N turns with the other "
                                "conversations' turns (search latency at a user's size)")

    store = benches.add_parser("store", help="write throughput and search latency of a backend")
    store.add_argument("--backend", choices=BACKENDS, default="networkx")
    store.add_argument("--location", default=None,
                       help="server URL (falkordb/neo4j); default: start a private FalkorDB "
                            "server for falkordb, $NEO4J_URI for neo4j")
    store.add_argument("--turns", type=int, nargs="+", default=[1000, 10000])
    store.add_argument("--users", type=int, default=10)
    store.add_argument("--queries", type=int, default=200)
    store.add_argument("--out", type=Path, default=Path("results/store.json"))
    store.add_argument("--open-many", type=int, nargs=2, metavar=("USERS", "TURNS"),
                       help="instead: write USERS users of TURNS turns to the embedded store "
                            "and time opening it to read one user, in process and by "
                            "`personavlm memories`")

    faults = benches.add_parser(
        "faults", help="acknowledged writes against what survives SIGKILL, a flipped byte, a "
                       "journal truncated, cut at a record boundary, emptied or deleted, a "
                       "full disk (a tmpfs, where unshare can mount one) and a kill with "
                       "memory work pending")
    faults.add_argument("--rounds", type=int, default=5, help="rounds of each fault class")
    faults.add_argument("--seed", type=int, default=0)
    faults.add_argument("--out", type=Path, default=Path("results/faults.json"))

    serve = benches.add_parser(
        "serve", help="the served agent under load (langgraph dev, a FAKE chat model): run "
                      "and store-search latency, nothing leaked, nothing lost")
    serve.add_argument("--users", type=int, default=2)
    serve.add_argument("--runs", type=int, default=20, help="concurrent runs per user")
    serve.add_argument("--searches", type=int, default=200)
    serve.add_argument("--in-flight", type=int, default=20, help="store searches at once")
    serve.add_argument("--notes", type=int, default=50, help="store items put per user first")
    serve.add_argument("--out", type=Path, default=Path("results/serve.json"))

    agent = benches.add_parser("agent", help="per-turn latency and tokens of the agent with "
                                             "the offline model")
    agent.add_argument("--out", type=Path, default=Path("results/agent.json"))
    agent.add_argument("--location", type=Path, default=Path("results/bench-agent-memory"))
    agent.add_argument("--turns", type=int, default=None,
                       help="the first N turns of the demo's history (default: all of it)")
    agent.add_argument("--extraction-window", type=int, default=None, metavar="N",
                       help="user turns one extraction call reads (default: the agent's)")

    llama = benches.add_parser(
        "llama", help="llama.cpp prompt and generation tokens/s: builds and OpenMP wait "
                      "policies, one process alone and several at once")
    llama.add_argument("--build", dest="builds", nargs="+", default=[sys.executable],
                       metavar="PYTHON[=LABEL]",
                       help="interpreters whose llama-cpp-python build to measure "
                            "(default: this one)")
    llama.add_argument("--policies", nargs="+", default=["libgomp-default", "passive"],
                       choices=list(POLICIES))
    llama.add_argument("--threads", type=int, default=None,
                       help="threads per process (default: the cores this process may use)")
    llama.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    llama.add_argument("--prompt-tokens", type=int, default=256)
    llama.add_argument("--gen-tokens", type=int, default=64)
    llama.add_argument("--repeats", type=int, default=3,
                       help="runs of each configuration; the table gives their median")
    llama.add_argument("--out", type=Path, default=Path("results/llama.json"))
    tools = benches.add_parser("tools", help="how reliably a chat model calls the memory "
                                             "tools (the offline model by default)")
    _model_options(tools)
    tools.add_argument("--out", type=Path, default=Path("results/bench-tools.json"))
    _agent_commands(commands)
    _eval_commands(commands)
    return parser


def _data_dir() -> Path | None:
    root = os.environ.get("PERSONA_DATA_DIR")
    return Path(root) if root else None


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", choices=CHAT_PROVIDERS, default="llamacpp")
    parser.add_argument("--model", default="",
                        help="GGUF path, hf model dir or served model name")
    parser.add_argument("--base-url", default="", help="OpenAI-compatible endpoint")


def _eval_commands(commands: Any) -> None:
    from evals.system_names import ALL_SYSTEMS, ASSISTANT_SYSTEMS

    evaluate = commands.add_parser("eval", help="benchmarks of personalization: every "
                                                "system side by side (JSON, Markdown, PNG)")
    evals = evaluate.add_subparsers(dest="benchmark", required=True)

    locomo = evals.add_parser("locomo", help="LoCoMo QA: token F1 per category and "
                                             "evidence recall")
    locomo.add_argument("--data", type=Path, default=_default_locomo(), required=
                        _default_locomo() is None,
                        help="LoCoMo JSON (default $PERSONA_DATA_DIR/locomo/locomo_dev.json)")
    locomo.add_argument("--conversations", nargs="+", default=[], help="sample ids")
    locomo.add_argument("--limit", type=int, default=None,
                        help="questions per conversation, taken in turn from each category")
    locomo.add_argument("--systems", nargs="+", choices=ALL_SYSTEMS, default=None)
    locomo.add_argument("--window", type=int, default=8192,
                        help="model window in tokens that full-context fills")
    locomo.add_argument("--out", type=Path, default=Path("results/eval-locomo.json"))
    locomo.add_argument("--report-only", action="store_true",
                        help="only aggregate the answers already logged for --out")
    locomo.add_argument("--raw-turns-only", action="store_true",
                        help="do not consolidate sessions: ours answers from raw turns only "
                             "(quicker, but not the memory ours normally has)")
    locomo.add_argument("--retry-failed", action="store_true",
                        help="consolidate again the sessions an earlier run logged as failed "
                             "(by default a resumed run skips them)")
    locomo.add_argument("--first-round-recall", action="store_true",
                        help="also score the first retrieval round of the ranked systems on "
                             "every question with evidence (model-free; ~15 min for the "
                             "five dev conversations on two cores)")
    locomo.add_argument("--judge-provider", choices=("llamacpp", "hf", "openai"), default="",
                        help="grade every answer with this judge model (LLM-judge accuracy)")
    locomo.add_argument("--judge-model", default="",
                        help="the judge's GGUF path, hf model dir or served model name")
    locomo.add_argument("--judge-base-url", default="",
                        help="the judge's OpenAI-compatible endpoint")
    _model_options(locomo)

    assistant_root = _data_dir()
    assistant_data = assistant_root / "assistant" / "dev.json" if assistant_root else None
    assistant = evals.add_parser("assistant", help="the assistant set: long-term "
                                                   "conversations heard as a person says "
                                                   "them, then probes, reply checks, traits")
    assistant.add_argument("--data", type=Path, default=assistant_data,
                           required=assistant_data is None,
                           help="assistant-set JSON (default $PERSONA_DATA_DIR/assistant/"
                                "dev.json)")
    assistant.add_argument("--dialogues", nargs="+", default=[], help="dialogue ids")
    assistant.add_argument("--systems", nargs="+", choices=ASSISTANT_SYSTEMS, default=None)
    assistant.add_argument("--window", type=int, default=8192,
                           help="model window in tokens that full-context fills")
    assistant.add_argument("--max-reply-tokens", type=int, default=120)
    assistant.add_argument("--out", type=Path, default=Path("results/eval-assistant.json"))
    assistant.add_argument("--heard-from", type=Path, default=None,
                           help="a previous run's --out: ask the probes again on the memory "
                                "it left, nothing heard again (for changes to replies)")
    assistant.add_argument("--report-only", action="store_true",
                           help="only aggregate the dialogues already logged for --out")
    _model_options(assistant)

    persona = evals.add_parser("persona-mme", help="Persona-MME protocol: multiple choice "
                                                   "per task and aspect, with alignment")
    persona.add_argument("--questions", type=Path, required=True)
    persona.add_argument("--root", type=Path, required=True,
                         help="directory the questions' data_path values are relative to")
    persona.add_argument("--systems", nargs="+", choices=ALL_SYSTEMS,
                         default=list(ALL_SYSTEMS))
    persona.add_argument("--extraction", choices=get_args(ExtractionMode), default="turn",
                         help="memory extraction while replaying: per turn (the paper) or "
                              "one call per session (faster)")
    persona.add_argument("--window", type=int, default=8192)
    persona.add_argument("--out", type=Path, default=Path("results/eval-persona-mme.json"))
    _model_options(persona)

    fixture = evals.add_parser("persona-mme-fixture",
                               help="write the small Persona-MME-format fixture")
    fixture.add_argument("--images", type=Path, default=None,
                         help="yollava_bo folder (default $PERSONA_DATA_DIR/yollava_bo)")
    fixture.add_argument("--out", type=Path, default=Path("results/persona-mme-fixture"))

    visual = evals.add_parser("visual", help="visual memory of a pet (Yo'LLaVA): needs a "
                                             "vision model")
    data_dir = _data_dir()
    visual.add_argument("--data", type=Path, required=data_dir is None,
                        default=data_dir / "yollava_bo" if data_dir else None,
                        help="yollava_bo folder (default $PERSONA_DATA_DIR/yollava_bo)")
    visual.add_argument("--name", default="bo", help="the pet's name (replaces <sks>)")
    visual.add_argument("--out", type=Path, default=Path("results/eval-visual.json"))
    _model_options(visual)

    personality = evals.add_parser("personality", help="Big Five inference on scripted "
                                                       "dialogues: shown traits found, "
                                                       "others left neutral")
    personality.add_argument("--out", type=Path,
                             default=Path("results/eval-personality.json"))
    personality.add_argument("--inference", choices=("markers", "model"), default="markers",
                             help="how traits are observed (Context.personality_inference)")
    personality.add_argument("--assistant-data", type=Path, default=None,
                             help="also replay the assistant set's dialogues and score "
                                  "their trait labels (e.g. ../shared/data/assistant/"
                                  "dev.json)")
    _model_options(personality)

    extraction = evals.add_parser("extraction", help="memories of labelled dialogues "
                                                     "(updates, duplicates, assistant "
                                                     "echoes, junk): precision and recall")
    extraction.add_argument("--out", type=Path, default=Path("results/eval-extraction.json"))
    extraction.add_argument("--extraction-window", type=int,
                            default=DEFAULT_EXTRACTION_WINDOW, metavar="N",
                            help="user turns one extraction call reads (default "
                                 f"{DEFAULT_EXTRACTION_WINDOW}, the agent's)")
    _model_options(extraction)


def _run_eval(args: argparse.Namespace) -> int:
    if args.benchmark == "locomo":
        from evals.locomo_eval import DEFAULT_SYSTEMS, LocomoOptions
        from evals.locomo_eval import run as run_locomo

        run_locomo(LocomoOptions(
            data=args.data, out=args.out, systems=tuple(args.systems or DEFAULT_SYSTEMS),
            conversations=tuple(args.conversations), limit=args.limit,
            provider=args.provider, model=args.model, base_url=args.base_url,
            window_tokens=args.window, report_only=args.report_only,
            first_round=args.first_round_recall, judge_provider=args.judge_provider,
            judge_model=args.judge_model, judge_base_url=args.judge_base_url,
            retry_failed=args.retry_failed, raw_turns_only=args.raw_turns_only))
    elif args.benchmark == "assistant":
        from evals.assistant_eval import DEFAULT_SYSTEMS as ASSISTANT_DEFAULTS
        from evals.assistant_eval import AssistantOptions
        from evals.assistant_eval import run as run_assistant

        run_assistant(AssistantOptions(
            data=args.data, out=args.out, systems=tuple(args.systems or ASSISTANT_DEFAULTS),
            dialogues=tuple(args.dialogues), provider=args.provider, model=args.model,
            base_url=args.base_url, window_tokens=args.window,
            max_reply_tokens=args.max_reply_tokens, report_only=args.report_only,
            heard_from=args.heard_from))
    elif args.benchmark == "persona-mme":
        from evals.persona_mme import PersonaMMEOptions
        from evals.persona_mme import run as run_persona

        run_persona(PersonaMMEOptions(
            questions=args.questions, root=args.root, out=args.out,
            systems=tuple(args.systems), extraction_mode=args.extraction,
            provider=args.provider, model=args.model, base_url=args.base_url,
            window_tokens=args.window))
    elif args.benchmark == "persona-mme-fixture":
        from evals.persona_mme_fixture import write_fixture

        data_dir = _data_dir()
        images = args.images or (data_dir / "yollava_bo" if data_dir else None)
        if images is None:
            raise ConfigurationError("give --images or set PERSONA_DATA_DIR")
        questions = write_fixture(args.out, images)
        print(f"wrote {questions} (root {args.out})")
    elif args.benchmark == "visual":
        from evals.visual import run as run_visual

        return run_visual(args.data, args.name, args.out, args.provider, args.model,
                          args.base_url)
    elif args.benchmark == "personality":
        from evals.personality_eval import run as run_personality
        from providers.chat import make_chat_model

        chat = make_chat_model(args.provider, args.model, args.base_url) \
            if args.inference == "model" else None
        run_personality(chat, args.out, args.inference, args.assistant_data)
    elif args.benchmark == "extraction":
        from evals.extraction_eval import run as run_extraction
        from providers.chat import make_chat_model
        from providers.embeddings import default_embedder

        run_extraction(make_chat_model(args.provider, args.model, args.base_url),
                       default_embedder(), args.out, window=args.extraction_window)
    return 0


def _agent_options(parser: argparse.ArgumentParser, user: bool = True) -> None:
    if user:
        parser.add_argument("--user", default="default-user", help="user id")
        parser.add_argument("--user-name", default="", help="how to call the user")
    parser.add_argument("--backend", choices=BACKENDS, default="networkx")
    parser.add_argument("--location", default="",
                        help="data dir (networkx) or server URL; default "
                             "$PERSONAVLM_DATA/memory, else ~/.local/share/personavlm/memory "
                             "(where Memory() and the agent keep it)")
    _model_options(parser)


def _agent_commands(commands: Any) -> None:
    demo = commands.add_parser("demo", help="replay the bundled conversation with the "
                                            "offline model and show what it remembers")
    demo.add_argument("--out", type=Path, default=Path("results/demo"))
    _agent_options(demo, user=False)

    chat = commands.add_parser("chat", help="talk to the assistant (/image PATH, /quit)")
    _agent_options(chat)
    chat.add_argument("--inline", action="store_true",
                      help="extract memories before replying instead of after")

    ingest = commands.add_parser("ingest", help="replay a Persona-MME user_data.json or a "
                                                "LoCoMo file into a user's memory")
    ingest.add_argument("file", type=Path)
    ingest.add_argument("--conversation", default=None, help="LoCoMo sample_id")
    ingest.add_argument("--limit", type=int, default=None, help="first N exchanges only")
    ingest.add_argument("--no-extract", action="store_true",
                        help="store raw turns only (no model calls)")
    _agent_options(ingest)

    ask = commands.add_parser("ask", help="one question, answered from memory, not stored")
    ask.add_argument("question")
    ask.add_argument("--at", default=None, help="when it is asked (default now)")
    _agent_options(ask)

    memories = commands.add_parser("memories", help="list what is remembered about a user")
    memories.add_argument("--as-of", default=None, help="only what was known then")
    memories.add_argument("--json", action="store_true",
                          help='print {"memories": [...], "turns": [...]} as JSON')
    memories.add_argument("--ids", action="store_true",
                          help="also list the raw turns with their ids and session ids "
                               "(what forget --turn / --session take)")
    _agent_options(memories)

    forget = commands.add_parser(
        "forget", help="forget a turn (with the reply of its exchange), a session or a "
                       "user, with every memory and summary their text reached")
    target = forget.add_mutually_exclusive_group(required=True)
    target.add_argument("--turn", help="a turn id (personavlm memories --ids lists them)")
    target.add_argument("--session", help="a session id")
    target.add_argument("--all", action="store_true", help="everything about the user")
    _agent_options(forget)

    status = commands.add_parser(
        "status", help="a user's memory work: turns extracted, pending or failed, sessions "
                       "consolidated or not, and every failure with its error")
    status.add_argument("--json", action="store_true",
                        help="print it as JSON (fields in docs/agent.md)")
    _agent_options(status)

    users = commands.add_parser("users", help="the users whose memories the store holds")
    users.add_argument("--json", action="store_true", help='print ["<user id>", ...]')
    _agent_options(users, user=False)

    sync = commands.add_parser(
        "sync", help="run a user's pending memory work (extraction, consolidation of "
                     "finished sessions) to completion and exit; exit code 1 if some failed")
    _agent_options(sync)

    repair = commands.add_parser(
        "repair", help="set damaged records of the embedded store aside (kept in each "
                       "user's quarantine folder) and keep every intact one; a user with a "
                       "file that cannot be read is left as it is; exit code 1 if some "
                       "user could not be repaired or acknowledged writes could not be "
                       "recovered (each is named)")
    repair.add_argument("--location", default="",
                        help="data dir of the embedded store; default $PERSONAVLM_DATA/memory")

    graph = commands.add_parser("graph", help="write the user's memory as an HTML page")
    graph.add_argument("--html", type=Path, required=True, help="the page to write")
    graph.add_argument("--png", type=Path,
                       help="also a screenshot of it (headless Chromium from the PATH or "
                            "$PERSONAVLM_CHROMIUM)")
    graph.add_argument("--png-height", type=int, default=1600,
                       help="screenshot height in CSS pixels (width 1200)")
    _agent_options(graph)


def _context(args: argparse.Namespace, **extra: Any) -> Context:
    return Context(user_id=getattr(args, "user", "default-user"),
                   user_name=getattr(args, "user_name", ""), store_backend=args.backend,
                   store_location=args.location, chat_provider=args.provider,
                   chat_model=args.model, chat_base_url=args.base_url, **extra)


def _damaged(store: GraphStore) -> dict[str, StoreCorruptedError]:
    """The embedded store's user directories that cannot be opened, every user's files
    checked (a server store reports its own failures as errors)."""
    from memory_graph.backends.networkx_store import NetworkxStore

    return store.scan_damage() if isinstance(store, NetworkxStore) else {}


def _damage_line(name: str, error: StoreCorruptedError) -> str:
    where = "" if isinstance(error, StoreUnreadableError) else f" at byte {error.offset}"
    return f"damaged: users/{name}: {error.path}{where}: {error.reason}"


def _unrecovered_line(name: str, error: MissingWritesError) -> str:
    if error.first_seq is None or error.last_seq is None:
        what = "records before the end of the file"
    elif error.first_seq == error.last_seq:
        what = f"record {error.first_seq}"
    else:
        what = f"records {error.first_seq} to {error.last_seq}"
    return f"could not recover users/{name}: {what} ({error.path}: {error.reason})"


def _repair(location: str) -> int:
    from agent_runtime.context import data_home
    from memory_graph.backends.networkx_store import NetworkxStore

    root = Path(location).expanduser() if location else data_home() / "memory"
    store = NetworkxStore(root)
    try:
        damaged = store.scan_damage()
        if not damaged:
            print(f"{root}: nothing is damaged")
            return 0
        for name, error in damaged.items():
            print(_damage_line(name, error))
        unrepaired = 0
        for report in store.repair():
            name = report.directory.name
            if report.unreadable is not None:
                unrepaired += 1
                print(f"could not repair users/{name}: {report.unreadable}", file=sys.stderr)
                continue
            print(f"repaired {report.directory}: kept {report.kept_records} log records, "
                  f"set aside {report.quarantined_records}"
                  + (", the snapshot" if report.quarantined_snapshot else "")
                  + (", the user file" if report.quarantined_user_file else "")
                  + (", the acknowledgement file" if report.quarantined_acks else "")
                  + (f"; cut a torn tail of {report.torn_bytes} bytes"
                     if report.torn_bytes else "")
                  + (f"; dropped {report.dropped_edges} edges to lost nodes"
                     if report.dropped_edges else "")
                  + (f" -> {report.quarantine_file}" if report.quarantine_file else ""))
            for missing in report.unrecovered:
                unrepaired += 1
                print(_unrecovered_line(name, missing), file=sys.stderr)
            if report.unknown is not None:
                print(f"warning: users/{name}: {report.unknown}", file=sys.stderr)
    finally:
        store.close()
    return 1 if unrepaired else 0


#: Commands that only read the memory: served without the agent, LangGraph or a model.
READ_ONLY_COMMANDS = ("memories", "status", "graph", "users")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{number} {name}" for name, number in counts.items()) or "none"


def _run_read_command(args: argparse.Namespace) -> None:
    from agent_runtime.context import store_location
    from memory_graph.backends import open_store
    from memory_graph.graph import MemoryGraph
    from memory_graph.views import memory_rows, turn_rows
    from memory_work.outstanding import work_status
    from providers.embeddings import LazyEmbedder, default_embedder

    context = _context(args)
    # Read-only: these commands work while a chat or the server holds the store.
    store = open_store(context.store_backend, store_location(context) or None, read_only=True)
    try:
        memory = MemoryGraph(store, LazyEmbedder(default_embedder))
        if args.command == "memories":
            rows = memory_rows(memory, args.user, args.as_of)
            if args.json:
                print(json.dumps({"memories": rows, "turns": turn_rows(memory, args.user)},
                                 indent=2))
                return
            for row in rows:
                print(f"{(row['date'] or '')[:16]:16}  {row['kind']:10}  {row['text']}")
            if args.ids:
                print("\nturns (id, session, time, who, text):")
                for turn in turn_rows(memory, args.user):
                    print(f"{turn['id']}  {turn['session_id']}  {turn['at'][:16]}  "
                          f"{turn['role']:9}  {turn['text'][:80]}")
        elif args.command == "status":
            work = work_status(memory, context)
            damaged = _damaged(store)
            if args.json:
                work["damaged"] = [
                    {"directory": f"users/{name}", "file": error.path, "error": error.reason,
                     "byte": None if isinstance(error, StoreUnreadableError) else error.offset}
                    for name, error in damaged.items()]
                print(json.dumps(work, indent=2))
                return
            print(f"turns: {_counts(work['turns'])}")
            print(f"sessions: {_counts(work['sessions'])}")
            print(f"outstanding: {_counts(work['outstanding'])}")
            for running in work["running"]:
                what = "turn" if "turn" in running else "session"
                print(f"  running: {what} {running[what]} by {running['by']} "
                      f"until {running['until'][:19]}")
            for failure in work["failures"]:
                what = "turn" if "turn" in failure else "session"
                print(f"  failed: {what} {failure[what]} ({failure['attempts']} attempts): "
                      f"{failure['error']}")
            for name, error in damaged.items():
                print(_damage_line(name, error))
        elif args.command == "users":
            ids = memory.users()
            print(json.dumps(ids) if args.json else "\n".join(ids) or "(no users)")
        elif args.command == "graph":
            from personavlm.graph_html import write_graph_html

            stats = write_graph_html(memory, args.user, args.html)
            print(f"wrote {args.html} ({stats['nodes']} nodes, {stats['edges']} edges)")
            if args.png:
                from personavlm.screenshot import screenshot

                print(f"wrote {screenshot(args.html, args.png, height=args.png_height)}")
    finally:
        store.close()


def _run_agent_command(args: argparse.Namespace) -> None:
    from graphs.assistant import Assistant

    if args.command == "demo":
        from personavlm.demo import run_demo

        run_demo(args.out, _context(args))
        return
    overrides: dict[str, dict[str, Any]] = {
        "chat": {"background_extraction": not getattr(args, "inline", False)},
        "ingest": {"extract_memories": not getattr(args, "no_extract", False)},
        "ask": {"update_memory": False},
    }
    with Assistant(_context(args, **overrides.get(args.command, {}))) as assistant:
        if args.command in ("chat", "ask"):
            assistant.warm_up()  # ingest warms up once its file has been read
        if args.command == "chat":
            from personavlm.repl import chat

            chat(assistant)
        elif args.command == "ingest":
            from personavlm.ingest import ingest

            ingest(assistant, args.file, args.conversation, args.limit)
        elif args.command == "ask":
            from personavlm.waiting import Spinner

            with Spinner("reading the message") as spinner:
                out = assistant.say_streaming(args.question, lambda _: None, at=args.at,
                                              on_stage=spinner.stage)
            print(out["reply"])
            for memory in out["memories"]:
                print(f"  - round {memory['round']}: {memory['text']}")
        elif args.command == "sync":
            counts = assistant.sync()
            print(f"sync: {counts}")
            if counts["turns failed"] or counts["sessions failed"]:
                raise SystemExit(1)
        elif args.command == "forget":
            forgotten = assistant.forget(turn_id=args.turn, session_id=args.session,
                                         everything=args.all)
            print(f"forgotten: {forgotten}")


def main(argv: Sequence[str] | None = None) -> int:
    configure_openmp()
    args = _parser().parse_args(argv)
    try:
        if args.command == "bench" and args.bench == "retrieval":
            from evals import bench_retrieval

            bench_retrieval.main(args.data, args.out,
                                 rerank_candidates=tuple(args.rerank_candidates),
                                 turns_per_user=args.turns_per_user,
                                 methods=tuple(args.methods or bench_retrieval.METHODS))
        elif args.command == "bench" and args.bench == "agent":
            from evals import bench_agent
            from personavlm.demo import load_demo

            overrides = ({} if args.extraction_window is None
                         else {"extraction_window": args.extraction_window})
            bench_agent.main(args.out, args.location, *load_demo(), turns=args.turns,
                             **overrides)
        elif args.command == "bench" and args.bench == "faults":
            from evals import bench_faults

            bench_faults.main(args.rounds, args.out, args.seed)
        elif args.command == "bench" and args.bench == "serve":
            from evals import bench_serve

            bench_serve.main(args.out, args.users, args.runs, args.searches, args.in_flight,
                             args.notes)
        elif args.command == "bench" and args.bench == "store":
            from evals import bench_store

            if args.open_many:
                users, turns_each = args.open_many
                bench_store.open_many(users, turns_each, args.out)
            else:
                bench_store.main(args.backend, args.turns, args.out, users=args.users,
                                 queries=args.queries, location=args.location)
        elif args.command == "bench" and args.bench == "llama":
            from evals import bench_llama

            bench_llama.main(args.out, args.builds, args.policies, args.processes,
                             args.prompt_tokens, args.gen_tokens, args.repeats,
                             args.threads)
        elif args.command == "bench" and args.bench == "tools":
            from evals import bench_tools
            from providers.chat import make_chat_model

            bench_tools.main(make_chat_model(args.provider, args.model, args.base_url),
                             args.out)
        elif args.command == "eval":
            return _run_eval(args)
        elif args.command == "repair":
            return _repair(args.location)
        elif args.command in READ_ONLY_COMMANDS:
            _run_read_command(args)
        else:
            _run_agent_command(args)
    except (PersonaVLMError, FileNotFoundError) as exc:
        print(f"personavlm: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
