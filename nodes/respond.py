"""respond: the reply, aligned with the core profile, the personality (in words), the
retrieved memories (with dates) and the recent turns; stored as an assistant turn. After a
generated reply the next turn's prompt prefix is warmed in the background."""

from __future__ import annotations

from datetime import datetime, timedelta

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider, Resources
from agent_runtime.structured import invoke_model
from memory_graph.graph import TurnInput
from memory_work.in_process import schedule_idle_consolidation
from nodes.grounding import grounded_reply
from nodes.node_run import NodeRun
from nodes.reply_prompt import attached_images, reply_messages
from nodes.state import MediaRef, State
from nodes.warm_prefix import submit_warm_prefix
from providers.chat import supports_vision


def respond(state: State, runtime: Runtime[Context], *, provider: ResourceProvider) -> State:
    run = NodeRun.start(provider, runtime)
    ctx, res, turn = run.ctx, run.res, state["turn"]
    try:
        text, reply_id = reply_text(state, run)
        if turn["stored"]:
            store_reply(state, run, text)
    except BaseException:
        # An exchange is stored whole or not at all: the question goes with its reply.
        if turn["stored"]:
            res.memory.drop_exchange(ctx.user_id, turn["id"])
        raise
    finally:
        res.worker.end_reply(ctx.user_id)  # begun by perceive
        discard_transient_media(res, ctx.user_id, turn["media"])
    # The reply joins the thread's messages (with the id its streamed tokens had, so a
    # messages stream does not show it twice).
    return {"reply": text, "cost": run.meter.as_dict(),
            "messages": [AIMessage(content=text, id=reply_id)]}


def reply_text(state: State, run: NodeRun) -> tuple[str, str | None]:
    """The reply, and the id of the model's message when the model wrote it: the given
    one, a grounded one (a name the user never gave), or the model's."""
    given = state.get("replay")
    if given is not None:
        return given["text"].strip(), None
    if (grounded := grounded_reply(run.res, run.ctx, state)) is not None:
        return grounded, None
    ctx, res = run.ctx, run.res
    images = (attached_images(res.media, ctx.user_id, state["turn"])
              if supports_vision(res.chat) else None)
    messages = reply_messages(state, ctx, images)
    model = res.chat.bind(max_tokens=ctx.max_reply_tokens)
    answer = invoke_model(model, messages, run.meter, "respond", user_facing=True)
    return str(answer.text).strip(), answer.id


def store_reply(state: State, run: NodeRun, text: str) -> None:
    """Store the reply as the assistant's turn, answering the user's; then, in process,
    schedule the idle consolidation and warm the next reply's prompt prefix."""
    ctx, res, turn, given = run.ctx, run.res, state["turn"], state.get("replay")
    said_at = datetime.fromisoformat(turn["at"]) + timedelta(seconds=1)
    speaker = given["speaker"] if given is not None else ""
    reply = [TurnInput(text=text[:20_000], at=said_at, session_id=turn["session_id"],
                       role="assistant", speaker=speaker or ctx.assistant_name,
                       seq=1)] if text else []
    with run.meter.store():
        res.memory.add_turns(ctx.user_id, reply, answering=turn["id"])
    if not run.provider.policy.queues_memory_work:  # served: the run queue's
        schedule_idle_consolidation(res, ctx)
    if given is None:
        submit_warm_prefix(res, ctx, turn["session_id"])


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
