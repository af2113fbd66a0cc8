"""Forgetting what a user asked to forget, across the memory graph and the media store
(``memory_graph.forgetting`` decides what a turn's text reached)."""

from __future__ import annotations

from agent_runtime.resources import Resources
from memory_graph.forgetting import ForgetReport
from memory_graph.schema import NodeLabel


def forget_memories(res: Resources, user_id: str, *, turn_id: str | None = None,
                    session_id: str | None = None, memory_id: str | None = None,
                    everything: bool = False) -> ForgetReport:
    """Forget a turn (with the reply of its exchange), a session, any one memory
    (``memory_id``: ``MemoryGraph.forget_memory``) or the whole user, with their text
    everywhere it reached and the image files no memory refers to any more (for one memory:
    the files of the images it removed, and only those). Returns what was removed, by kind;
    an id that is not one of the user's is an ``UnknownMemoryError`` and changes nothing."""
    res.memory.user(user_id)
    if everything:
        report = ForgetReport()
        for label in NodeLabel:
            report.counts[label.value.lower() + "s"] = len(res.memory.nodes(user_id, label))
        res.memory.forget_user(user_id)
        report.counts["image files"] = len(res.media.drop_user(user_id))
        return report
    if memory_id:
        before = res.memory.image_hashes(user_id)
        report = res.memory.forget_memory(user_id, memory_id)
        report.counts["image files"] = len(res.media.delete(
            user_id, before - res.memory.image_hashes(user_id)))
        return report
    if turn_id:
        report = res.memory.forget_turn(user_id, turn_id)
    elif session_id:
        report = res.memory.forget_session(user_id, session_id)
    else:
        raise ValueError("forget needs turn_id, session_id, memory_id or everything=True")
    report.counts["image files"] = len(res.media.delete_unreferenced(
        user_id, res.memory.image_hashes(user_id)))
    return report
