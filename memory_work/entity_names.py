"""Which names a small model proposes are entities a person would name: not a verb
("slept"), a time ("last week"), a phrase ("right by the lake"), the assistant or the user
themself, nor a "person" whose name the conversation never writes as a name."""

from __future__ import annotations

import re
from collections.abc import Iterable

from memory_graph.relative_dates import MONTHS, WEEKDAYS

TIME_WORDS = frozenset("""
    today yesterday tomorrow tonight morning afternoon evening night day days week weeks
    weekend weekends month months year years hour hours minute minutes time times moment
    spring summer autumn fall winter last next this ago recently lately now one two three
    four five six seven eight nine ten eleven twelve few several couple
""".split()) | frozenset(WEEKDAYS) | frozenset(MONTHS)

#: A name that starts with one of these is a phrase, not a thing ("right by the lake").
PHRASE_STARTS = frozenset("""
    right by in on at near next with from to into around behind over under about for very
    really so just when while after before during
""".split())

#: Irregular past forms a model lists as "activities"; regular ones end in -ed.
IRREGULAR_PAST = frozenset("""
    slept went ate ran made got took saw had felt came left bought said told met sat spent
    began wrote drove flew swam won lost found gave kept thought brought taught caught
    fought sold sent built did was were been
""".split())

#: People named by their relation to the user, not by a written name.
RELATIONS = frozenset("""
    mom mum mother dad father parents sister brother sibling wife husband partner son
    daughter kids children child baby grandma grandmother grandpa grandfather aunt uncle
    cousin friend friends boss colleague coworker neighbour neighbor girlfriend boyfriend
    family teacher doctor
""".split())

#: Words with their apostrophes ("o'brien"), in any script.
_WORD = re.compile(r"[^\W_][\w']*")


def junk_reason(name: str, kind: str, source: str, excluded: Iterable[str] = ()) -> str:
    """Why ``name`` (of ``kind``) is not an entity, or "" when it is one. ``source`` is the
    text it was found in; ``excluded`` are names that are not the user's entities (the
    assistant's, the user's own)."""
    words = _WORD.findall(name.lower())
    if not words:
        return "empty"
    if " ".join(words) in {" ".join(_WORD.findall(e.lower())) for e in excluded}:
        return "the user or the assistant"
    content = [w for w in words if w not in {"the", "a", "an", "my", "our", "his", "her"}]
    if not content or all(w in TIME_WORDS or w.isdigit() for w in content):
        return "a time"
    if words[0] in PHRASE_STARTS:
        return "a phrase"
    if len(content) == 1 and _is_past_verb(content[0]):
        return "a verb"
    if kind in ("person", "pet") and not any(w in RELATIONS for w in content) and \
            not _written_as_name(name, source):
        return f"a {kind} never written as a name"
    return ""


def _is_past_verb(word: str) -> bool:
    return word in IRREGULAR_PAST or (len(word) > 4 and word.endswith("ed")
                                      and not word.endswith("eed"))


def _written_as_name(name: str, source: str) -> bool:
    """Whether some word of ``name`` appears capitalised in ``source`` (or no source)."""
    if not source:
        return True
    for word in re.findall(r"[\w']+", name):
        if re.search(rf"\b{re.escape(word[:1].upper() + word[1:])}\b", source):
            return True
    return False
