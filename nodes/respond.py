"""respond: the reply, aligned with the core profile, the personality (in words), the
retrieved memories (with dates) and the recent turns; stored as an assistant turn. After a
generated reply the next turn's prompt prefix is warmed in the background."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import ResourceProvider, Resources
from agent_runtime.structured import invoke_model
from memory_graph.graph import TurnInput
from memory_work.in_process import schedule_idle_consolidation
from nodes.grounding import grounded_reply
from nodes.reply_prompt import attached_images, reply_messages
from nodes.state import MediaRef, State
from nodes.warm_prefix import submit_warm_prefix
from providers.chat import supports_vision


class Respond:
    def __init__(self, provider: ResourceProvider) -> None:
        self.provider = provider

    def __call__(self, state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = self.provider.run_context(runtime)
        res = self.provider.resolve(ctx)
        try:
            return self._reply(state, ctx, res)
        except BaseException:
            # An exchange is stored whole or not at all: the question goes with its reply.
            if state["turn"]["stored"]:
                res.memory.drop_exchange(ctx.user_id, state["turn"]["id"])
            raise
        finally:
            res.worker.end_reply(ctx.user_id)  # begun by perceive
            discard_transient_media(res, ctx.user_id, state["turn"]["media"])

    def _reply(self, state: State, ctx: Context, res: Resources) -> dict[str, Any]:
        meter = CostMeter()
        given = state.get("replay")
        reply_id: str | None = None
        if given is not None:
            text = given["text"].strip()
        elif (grounded := grounded_reply(res, ctx, state)) is not None:
            text = grounded
        else:
            images = (attached_images(res.media, ctx.user_id, state["turn"])
                      if supports_vision(res.chat) else None)
            messages = reply_messages(state, ctx, images)
            model = res.chat.bind(max_tokens=ctx.max_reply_tokens)
            answer = invoke_model(model, messages, meter, "respond", user_facing=True)
            text, reply_id = str(answer.text).strip(), answer.id
        turn = state["turn"]
        if turn["stored"]:
            said_at = datetime.fromisoformat(turn["at"]) + timedelta(seconds=1)
            speaker = given["speaker"] if given is not None else ""
            reply = [TurnInput(text=text[:20_000], at=said_at, session_id=turn["session_id"],
                               role="assistant", speaker=speaker or ctx.assistant_name,
                               seq=1)] if text else []
            with meter.store():
                res.memory.add_turns(ctx.user_id, reply, answering=turn["id"])
            if not self.provider.policy.queues_memory_work:  # served: the run queue's
                schedule_idle_consolidation(res, ctx)
            if given is None:
                submit_warm_prefix(res, ctx, turn["session_id"])
        # The reply joins the thread's messages (with the id its streamed tokens had, so a
        # messages stream does not show it twice).
        return {"reply": text, "cost": meter.as_dict(),
                "messages": [AIMessage(content=text, id=reply_id)]}


def discard_transient_media(res: Resources, user_id: str, media: list[MediaRef]) -> None:
    """Remove the files of photos saved for this turn only, unless a stored image has the
    same bytes (the file is then a memory's, whatever the run's state says)."""
    transient = [ref for ref in media if ref["transient"]]
    if not transient:
        return
    kept = res.memory.image_hashes(user_id)
    for ref in transient:
        if ref["sha256"] not in kept:
            res.media.discard(user_id, ref["sha256"], ref["suffix"])
