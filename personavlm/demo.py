"""``personavlm demo``: replay the bundled multimodal conversation through the real
model, then show what was remembered, the personality trajectory and answers to
follow-up questions; write the memory graph as HTML and the Big Five as a PNG."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from tqdm import tqdm

from graphs import Context
from graphs.assistant import Assistant
from personavlm.graph_html import write_graph_html
from personavlm.plots import personality_steps, plot_personality
from personavlm.waiting import answer_with_progress


def load_demo() -> tuple[dict[str, Any], Path]:
    root = Path(str(resources.files("personavlm") / "samples"))
    return json.loads((root / "demo_conversation.json").read_text("utf-8")), root


def run_demo(out_dir: Path, base: Context) -> dict[str, Any]:
    script, root = load_demo()
    out_dir.mkdir(parents=True, exist_ok=True)
    context = replace(base, user_id=script["user_id"], user_name=script["user_name"],
                      background_extraction=False,
                      store_location=base.store_location or str(out_dir / "memory"))
    with Assistant(context) as assistant:
        assistant.warm_up()
        if assistant.resources.memory.has_user(context.user_id):
            assistant.forget(everything=True)  # a rerun starts from a clean memory

        print(f"Replaying {sum(map(len, script['sessions']))} turns of {context.user_name} "
              f"(user id {context.user_id!r}) through {context.chat_provider} (memory: "
              f"{context.store_backend} at {context.store_location}; look later with "
              f"`personavlm memories --user {context.user_id} --location "
              f"{context.store_location}`)\n")
        turns: list[dict[str, Any]] = []
        flat = [turn for session in script["sessions"] for turn in session]
        for turn in tqdm(flat, desc="conversation", unit="turn", leave=False):
            images = [{"path": str(root / i["path"]), "caption": i.get("caption", "")}
                      for i in turn.get("images", [])]
            start = time.perf_counter()
            out = assistant.say(turn["text"], images=images, at=turn["at"])
            turns.append({"at": turn["at"], "user": turn["text"], "reply": out["reply"],
                          "seconds": round(time.perf_counter() - start, 1),
                          "extraction": out.get("extraction", {}), "cost": out["cost"],
                          "errors": out.get("errors", [])})
            tqdm.write(f"[{turn['at']}] {context.user_name}: {turn['text']}"
                       + (" [+photo]" if images else ""))
            tqdm.write(f"    assistant: {out['reply']}")
        closing = assistant.finish_sessions()

        memories = assistant.memories()
        print(f"\nWhat was remembered ({len(memories)} memories):")
        for row in memories:
            print(f"  {(row['date'] or '')[:10]:10}  {row['kind']:10}  {row['text'][:110]}")

        trajectory = assistant.personality_trajectory()
        print("\nPersonality trajectory (Big Five, 1-5, EMA over turns):")
        for p in trajectory:
            scores = "  ".join(f"{t[0].upper()} {v:.2f}" for t, v in p.scores.items())
            print(f"  turn {p.interactions}: {scores}")
        if trajectory:
            print("  in words:\n    " + trajectory[-1].describe().replace("\n", "\n    "))

        print("\nFollow-up questions (memory updates off):")
        answers = []
        for question in script["questions"]:
            out = answer_with_progress(assistant, question["text"], at=question["at"],
                                       update_memory=False)
            used = [m["text"] for m in out["memories"]][:3]
            answers.append({"question": question["text"], "answer": out["reply"],
                            "rounds": out["retrieval"]["round"], "memories": out["memories"],
                            "cost": out["cost"]})
            print(f"  Q: {question['text']}\n  A: {out['reply']}")
            print(f"     ({out['retrieval']['round']} retrieval round(s); "
                  f"{out['cost'].get('max_prompt_tokens', 0)} prompt tokens; top memories: "
                  + " | ".join(u[:70] for u in used) + ")")

        graph_stats = write_graph_html(assistant.resources.memory, context.user_id,
                                       out_dir / "memory_graph.html")
        plot_personality(personality_steps(assistant.resources.memory, context.user_id),
                         out_dir / "personality.png",
                         f"Big Five of {context.user_name} over the conversation")
        summary = {"turns": turns, "closing_consolidation": closing, "memories": memories,
                   "personality": [p.as_dict() for p in trajectory], "answers": answers,
                   "graph": graph_stats}
        (out_dir / "demo.json").write_text(json.dumps(summary, indent=2, default=str), "utf-8")
        print(f"\nWrote {out_dir / 'memory_graph.html'} ({graph_stats['nodes']} nodes, "
              f"{graph_stats['edges']} edges), {out_dir / 'personality.png'} and "
              f"{out_dir / 'demo.json'}")
        return summary
