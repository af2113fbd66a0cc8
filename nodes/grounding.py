"""Answers grounded in what the user said. A question after a name gets a reply without
the model when the user never gave that name: either they never mentioned its subject
("What's my brother's name?" from a user who never spoke of a brother), or they spoke of
it but never named it ("my son", never "my son Adam"). The 1.5B model, told in its
prompt that nothing mentions the subject, still took a name from another part of the
history; whether the user ever wrote a word, or a name beside it, is a keyword search
and a pattern away, so it is decided without it."""

from __future__ import annotations

import re

from memory_graph.schema import NodeLabel, Turn
from memory_graph.search import recipe
from nodes.context import Context
from nodes.reply_prompt import is_question, unmentioned_in_prompt
from nodes.resources import Resources
from nodes.state import State

#: The reply when the user never mentioned what a question asks about.
NEVER_TOLD_REPLY = "You haven't told me about your {subject} yet, so I don't know."
#: The reply when the user mentioned it but never gave its name.
NEVER_NAMED_REPLY = "You haven't told me the name of your {subject}, so I don't know it."

#: Questions that ask for the name of something of the user's: "my X's name", "the name
#: of my X", "what is my X called", "what did I name my X".
_NAME_OF_MINE = tuple(re.compile(pattern.replace("SUBJECT", r"((?:[\w'-]+ ){0,2}?[\w'-]+?)"),
                                  re.IGNORECASE) for pattern in (
    r"\bname of my SUBJECT\s*(?:\?|$|\bagain\b|\bnow\b)",
    r"\bmy SUBJECT's name\b",
    r"\bmy SUBJECT (?:is |was )?called\b",
    r"\b(?:i|we) (?:name|call|named|called) my SUBJECT\s*\??$",
))
#: Candidate names: a capitalised word that is not the pronoun "I".
_NAME = r"[\"'(]?(?!I\b|I'm\b|I've\b)[A-Z][\w'-]+"
#: How people give a thing's name beside the word for it: "my son Adam", "my son, Adam",
#: "my son (Adam)", "my son is called/named Adam", "my son's name is Adam", "Adam, my son",
#: "Adam is my son".
_NAMED_AFTER = r"(?:'s name is\s+|,?\s*\(|,?\s+(?:(?:is |was |who's |who is )?(?:called|named)" \
               r"\s+|is\s+)?)" + _NAME
_NAMED_BEFORE = _NAME + r"(?:,\s+|\s+(?:is|was)\s+)(?:my|our)\s+(?:[\w-]+\s+){0,2}"


def name_subject(text: str) -> str | None:
    """What a question asks the name of, when it is something of the user's ("son" in
    "What's my son's name?"); None for other questions."""
    if not is_question(text):
        return None
    for pattern in _NAME_OF_MINE:
        if (found := pattern.search(text)) is not None:
            return found.group(1).lower()
    return None


def names_given(subject: str, texts: list[str]) -> bool:
    """Whether any of ``texts`` gives a name beside ``subject``'s last word."""
    head = subject.split()[-1]
    after = re.compile(rf"\b{re.escape(head)}s?\b{_NAMED_AFTER}", re.IGNORECASE)
    before = re.compile(rf"{_NAMED_BEFORE}{re.escape(head)}s?\b", re.IGNORECASE)
    # The name itself must be capitalised: only the words around it ignore case.
    return any(_names_in(after, text, head) or _names_in(before, text, head)
               for text in texts)


#: Words of the patterns around a name, and words that open a sentence before a comma
#: ("Also, my son"), never a name themselves.
_FRAME_WORDS = {"i", "i'm", "i've", "my", "our", "is", "was", "who's", "who", "called",
                "named", "name", "also", "and", "but", "so", "well", "oh", "now", "then",
                "today", "tonight", "yesterday", "tomorrow", "anyway", "actually", "honestly",
                "sadly", "luckily", "finally", "plus", "still", "besides", "meanwhile",
                "hi", "hey", "hello", "yes", "no", "ok", "okay", "sorry", "btw", "anyways",
                "sometimes", "lately", "recently", "apparently", "basically", "obviously"}


def _names_in(pattern: re.Pattern[str], text: str, head: str) -> bool:
    """Whether a match of ``pattern`` (matched regardless of case) holds a capitalised
    word besides the subject and the pattern's own words."""
    for found in pattern.finditer(text):
        for word in re.findall(r"[\w'-]+", found.group(0)):
            lower = word.lower()
            if word[:1].isupper() and lower not in _FRAME_WORDS and \
                    lower.removesuffix("s") != head.lower():
                return True
    return False


def never_told(res: Resources, ctx: Context, state: State) -> str | None:
    """The reply to a question after a name that the user never gave, or None when the
    model should answer: the first subject that neither the prompt nor anything the user
    ever said mentions (a keyword search over their messages and facts, the question
    itself aside), else a name asked of something the user spoke of but never named."""
    turn = state["turn"]
    keyword = res.search.with_config(recipe("bm25", labels=(NodeLabel.TURN, NodeLabel.FACT)))
    for subject in unmentioned_in_prompt(state, ctx):
        hits = keyword.search(ctx.user_id, subject, 5, exclude=[turn["id"]])
        if not any(not isinstance(h.node, Turn) or h.node.role == "user" for h in hits):
            return NEVER_TOLD_REPLY.format(subject=subject)
    named = name_subject(turn["text"] or "")
    if named is None:
        return None
    words = res.search.with_config(recipe("bm25", labels=(NodeLabel.TURN,)))
    hits = words.search(ctx.user_id, named.split()[-1], 50, exclude=[turn["id"]])
    said = [h.node.text for h in hits if isinstance(h.node, Turn) and h.node.role == "user"]
    recent = [str(t["text"]) for t in state["background"]["recent"] if t["role"] == "user"]
    if said and not names_given(named, said + recent):
        return NEVER_NAMED_REPLY.format(subject=named)
    return None
