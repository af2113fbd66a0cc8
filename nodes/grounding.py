"""Answers grounded in what the user said. A question after a name gets a reply without
the model when the user never gave that name: either they never mentioned its subject
("What's my brother's name?" from a user who never spoke of a brother), or they spoke of
it but never named it ("my son", never "my son Adam"). The 1.5B model, told in its
prompt that nothing mentions the subject, still took a name from another part of the
history; whether the user ever wrote a word, or a name beside it, is a keyword search
and a pattern away, so it is decided without it."""

from __future__ import annotations

import re

from agent_runtime.context import Context
from agent_runtime.resources import Resources
from memory_graph.schema import Node, NodeLabel, Turn
from memory_graph.search import recipe
from nodes.reply_prompt import is_question, unmentioned_in_prompt
from nodes.retrieve import tells_the_reply
from nodes.state import State

#: The reply when the user never mentioned what a question asks about.
NEVER_TOLD_REPLY = "You haven't told me about your {subject} yet, so I don't know."
#: The reply when the user mentioned it but never gave its name.
NEVER_NAMED_REPLY = "You haven't told me the name of your {subject}, so I don't know it."
#: The reply when the user gave exactly one name for it.
NAMED_REPLY = "Your {subject} is called {name}."

#: Questions that ask for the name of something of the user's: "my X's name", "the name
#: of my X", "the name of the X I work at" (a relative clause with the user as subject,
#: not one that asks for advice: "the book I should read"), "what is my X called", "what
#: did I name my X".
_NAME_OF_MINE = tuple(re.compile(pattern.replace("SUBJECT", r"((?:[\w'-]+ ){0,2}?[\w'-]+?)"),
                                  re.IGNORECASE) for pattern in (
    r"\bname of my SUBJECT\s*(?:\?|$|\bagain\b|\bnow\b)",
    r"\bname of the SUBJECT (?:i|we) (?!should\b|could\b|might\b|would\b|can\b|will\b|"
    r"need\b|want\b|ought\b)[a-z]+\b",
    r"\bmy SUBJECT's name\b",
    r"\bmy SUBJECT (?:is |was )?called\b",
    r"\b(?:i|we) (?:name|call|named|called) my SUBJECT\s*\??$",
))
def name_subject(text: str) -> str | None:
    """What a question asks the name of, when it is something of the user's ("son" in
    "What's my son's name?"); None for other questions."""
    if not is_question(text):
        return None
    for pattern in _NAME_OF_MINE:
        if (found := pattern.search(text)) is not None:
            return found.group(1).lower()
    return None


#: Words that are capitalised without being a name: the pronoun, sentence openers ("Also,
#: my son"), days and months.
_NOT_NAMES = {"i", "i'm", "i've", "i'd", "i'll", "my", "our", "the", "a", "an", "this",
              "that", "these", "those", "he", "she", "they", "we", "it", "his", "her",
              "their", "also", "and", "but", "so", "well", "oh", "now", "then", "today",
              "tonight", "yesterday", "tomorrow", "anyway", "actually", "honestly", "sadly",
              "luckily", "finally", "plus", "still", "besides", "meanwhile", "hi", "hey",
              "hello", "yes", "no", "ok", "okay", "sorry", "btw", "sometimes", "lately",
              "recently", "apparently", "basically", "obviously", "just", "guess", "remember",
              "please", "what", "when", "where", "who", "why", "how", "is", "was",
              "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
              "january", "february", "march", "april", "may", "june", "july", "august",
              "september", "october", "november", "december"}
#: A capitalised word after one of these names a place or a time, not the subject.
_PLACE_WORDS = {"in", "at", "from", "to", "near", "on", "of", "by", "for", "with", "into",
                "around", "outside", "inside"}
#: How many words away from the subject's word a name may stand ("Pixel, the orange cat").
NAME_REACH = 5
_SENTENCES = re.compile(r"[^.!?\n]+")
_TOKEN = re.compile(r"[\w'-]+")


def names_given(subject: str, texts: list[str]) -> bool:
    """Whether any of ``texts`` may give a name for ``subject``: a capitalised word in the
    same sentence as the subject's last word, at most ``NAME_REACH`` words from it, that
    is no sentence opener, day or month and neither follows a preposition nor, after the
    subject, stands in a phrase a preposition opens ("a restaurant in Alexandria, near the
    Corniche" names no restaurant). Generous on purpose: a miss here means telling a
    user they never said what they did, so any likely name leaves the answer to the
    model."""
    head = subject.split()[-1].lower()
    heads = {head, head + "s", head + "es"}
    for text in texts:
        for sentence in _SENTENCES.findall(text):
            words = _TOKEN.findall(sentence)
            for at in (k for k, word in enumerate(words)
                       if word.lower().removesuffix("'s") in heads):
                for k in range(max(0, at - NAME_REACH), min(len(words), at + NAME_REACH + 1)):
                    word = words[k]
                    if k == at or not word[:1].isupper() or \
                            word.lower().removesuffix("'s") in _NOT_NAMES:
                        continue
                    between = words[min(at, k) + 1:max(at, k)]
                    if (k > at and any(w.lower() in _PLACE_WORDS for w in between)) or \
                            (k > 0 and words[k - 1].lower() in _PLACE_WORDS):
                        continue  # "a restaurant in Alexandria, near the Corniche"
                    return True
    return False


#: The ways a sentence gives the name of the user's SUBJECT ("my" or "our"): "my cat
#: Pixel", "our collie, Fiadh,", "my cat is called Pixel", "my cat's name is Pixel",
#: "Adam, my son", "Adam is my son", "Tofu, the grey cat", "a cat named Tofu". NAME is a
#: capitalised word.
_NAMINGS = tuple(pattern.replace("NAME", r"(?-i:([A-Z][\w'-]*))") for pattern in (
    r"\b(?:my|our) SUBJECT(?:,| is| was)? (?:(?:called|named) )?NAME",
    r"\b(?:my|our) SUBJECT's name (?:is|was) NAME",
    r"NAME,? (?:is |was )?(?:my|our) SUBJECT\b(?!')",
    r"NAME, the (?:[\w'-]+ ){0,3}?SUBJECT\b(?!')",
    r"\bSUBJECT (?:called|named) NAME",
))


def name_given(subject: str, texts: list[str]) -> str | None:
    """The name ``texts`` give for the user's ``subject`` when they give exactly one, in
    one of the plain ways a person names something (``_NAMINGS``); None when they give
    none or several (two cats, a renamed boat), which leaves the answer to the model.
    The 1.5B model, with "This is my cat Pixel" in its prompt, answered that the cat was
    called by the user's own name."""
    head = re.escape(subject).replace(r"\ ", " ")
    found: set[str] = set()
    for pattern in _NAMINGS:
        naming = re.compile(pattern.replace("SUBJECT", rf"{head}(?:s|es)?"), re.IGNORECASE)
        for text in texts:
            names = (name.replace("\u2019", "'").removesuffix("'s")
                     for name in naming.findall(text))  # "my sister Gráinne's house"
            found |= {name for name in names if name.lower() not in _NOT_NAMES}
    return found.pop() if len(found) == 1 else None


def grounded_reply(res: Resources, ctx: Context, state: State) -> str | None:
    """The reply to a question after a name that the user's own words settle, or None
    when the model should answer: the first subject that neither the prompt nor anything
    the user ever said mentions (a keyword search over their messages and facts, the
    question itself aside); else, for a name asked of something the user spoke of, the one
    name they gave it, or that they never named it."""
    turn = state["turn"]
    # The assistant's own words settle nothing, and they are dropped before the cut: its
    # replies restate the user's words and would take the places of the user's messages.
    def users_words(node: Node) -> bool:
        return tells_the_reply(node, {})

    keyword = res.search.with_config(recipe("bm25", labels=(NodeLabel.TURN, NodeLabel.FACT)))
    for subject in unmentioned_in_prompt(state, ctx):
        if not keyword.search(ctx.user_id, subject, 5, exclude=[turn["id"]], keep=users_words):
            return NEVER_TOLD_REPLY.format(subject=subject)
    named = name_subject(turn["text"] or "")
    if named is None:
        return None
    words = res.search.with_config(recipe("bm25", labels=(NodeLabel.TURN,)))
    hits = words.search(ctx.user_id, named.split()[-1], 50, exclude=[turn["id"]],
                        keep=users_words)
    said = [h.node.text for h in hits if isinstance(h.node, Turn)]
    recent = [str(t["text"]) for t in state["background"]["recent"] if t["role"] == "user"]
    if (name := name_given(named, said + recent)) is not None:
        return NAMED_REPLY.format(subject=named, name=name)
    if said and not names_given(named, said + recent):
        return NEVER_NAMED_REPLY.format(subject=named)
    return None
