"""Answers grounded in what the user said: a question after a name whose subject the user
never mentioned ("What's my brother's name?" from a user who never spoke of a brother)
gets a reply that says so, without asking the model. The 1.5B model, told in its prompt
that nothing mentions the subject, still took a name from another part of the history;
whether the user ever said a word is a keyword search away, so it is decided without it."""

from __future__ import annotations

from memory_graph.schema import NodeLabel, Turn
from memory_graph.search import recipe
from nodes.reply_prompt import unmentioned_in_prompt
from nodes.resources import Resources
from nodes.state import State

#: The reply when the user never mentioned what a question asks about.
NEVER_TOLD_REPLY = "You haven't told me about your {subject} yet, so I don't know."


def never_told(res: Resources, user_id: str, state: State) -> str | None:
    """The first subject of a question after a name ("my brother") that neither the
    prompt nor anything the user ever said mentions (a keyword search over their
    messages and facts, the question itself aside); None when every subject was said."""
    turn = state["turn"]
    subjects = unmentioned_in_prompt(state)
    if not subjects:
        return None
    keyword = res.search.with_config(recipe("bm25", labels=(NodeLabel.TURN, NodeLabel.FACT)))
    for subject in subjects:
        hits = keyword.search(user_id, subject, 5, exclude=[turn["id"]])
        if not any(not isinstance(h.node, Turn) or h.node.role == "user" for h in hits):
            return subject
    return None
