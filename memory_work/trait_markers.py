"""Big Five observations from the words people use, without a model call.

Each trait has marker phrases for its high and its low end, in the spirit of the word
categories of psycholinguistic trait research (worry and stress words for neuroticism,
social-outing words for extraversion, planning and lapse words for conscientiousness, and
so on). A message shows a level when its markers of that end outnumber the other end's;
every other trait is observed as neutral, which leaves it where it was
(``Personality.updated``). Each message is observed once: one marker moves a trait a
little, and only markers in message after message make it a level.

Negated and reassuring phrases ("not worried", "no stress") are markers of the other end
and are matched first, so their words do not also count for the end they negate. The
lists hold general English words, never content of a particular conversation."""

from __future__ import annotations

import re

from memory_work.model_outputs import NEUTRAL_SCORE, TRAIT_LEVEL_SCORES, BigFiveScores

#: trait -> (high-end markers, low-end markers). A marker is a regular expression over
#: lower-cased text, matched at word boundaries.
MARKERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "neuroticism": (
        (r"worr(?:y|ied|ying|ies)", r"anxi(?:ous|ety)", r"nervous",
         r"stress(?:ed|ful|ing)?", r"panick?(?:ed|ing)?", r"scared", r"afraid",
         r"dread(?:ing)?", r"overwhelm(?:ed|ing)", r"(?:can't|couldn't|cannot) sleep",
         r"on edge", r"tense", r"freak(?:ed|ing) out", r"overthink(?:ing)?", r"what if",
         r"terrified", r"can't stop thinking", r"insecure", r"upset", r"crying",
         r"mess (?:it|everything|things) up", r"knot in my stomach"),
        (r"calm", r"relax(?:ed|ing)?", r"chill(?:ed)?", r"laid[- ]back", r"no stress",
         r"not (?:stressed|worried|anxious|nervous)",
         r"(?:don't|never|doesn't|won't) (?:stress|worry|panic)", r"no worries",
         r"unbothered", r"easy[- ]?going",
         r"(?:things|it) (?:usually |always )?work(?:s)? out", r"shrug(?:ged)? it off",
         r"take (?:it|things) as (?:it|they) come", r"at peace", r"steady",
         r"whatever happens", r"doesn't bother me", r"not a big deal"),
    ),
    "extraversion": (
        (r"part(?:y|ies)", r"night out", r"(?:going|went|go) out",
         r"meet(?:ing)? (?:new )?people", r"new people", r"hang(?:ing)? out",
         r"social(?:is|iz)(?:e|ing)", r"crowd(?:s)? (?:energi[sz]e|love)",
         r"the more the merrier", r"host(?:ed|ing)?", r"invited (?:everyone|the whole)",
         r"with friends",
         r"talk(?:ed)? to (?:everyone|strangers|like)", r"outgoing", r"big group",
         r"love people", r"chatting with"),
        (r"alone", r"on my own", r"by myself", r"stay(?:ed|ing)? (?:in|home)",
         r"homebody", r"introvert(?:ed)?", r"small talk",
         r"crowds? (?:drain|tire|exhaust)", r"drain(?:s|ed)? me", r"recharge",
         r"peace and quiet", r"keep to myself",
         r"(?:one|two|a couple of|a few) close friends", r"shy",
         r"avoid(?:ed|ing)? (?:people|parties|crowds)", r"awkward",
         r"(?:hate|don't like|can't stand) (?:parties|crowds|small talk)"),
    ),
    "openness": (
        (r"curious", r"try(?:ing)? (?:something )?new", r"new things", r"never tried",
         r"explor(?:e|ed|ing)", r"fascinat(?:ed|ing|es)", r"learn(?:ing|ed|t)?",
         r"experiment(?:ed|ing)?", r"creative", r"art", r"museum", r"galler(?:y|ies)",
         r"adventur(?:e|ous)", r"discover(?:ed|ing)?", r"philosoph(?:y|ical)", r"poetry",
         r"paint(?:ing)?", r"documentar(?:y|ies)", r"unusual", r"course in",
         r"cultures?"),
        (r"same thing every", r"the usual", r"(?:stick|stuck) (?:to|with)", r"familiar",
         r"(?:don't|do not|never) like change", r"hate change", r"traditional",
         r"old[- ]fashioned", r"tried and tested", r"don't get",
         r"(?:no|don't see the) point", r"overrated", r"waste of time", r"practical",
         r"plain", r"(?:always|every time) the same", r"what i know"),
    ),
    "conscientiousness": (
        (r"plan(?:ned|ning|s)? (?:my|the|every|ahead)", r"schedul(?:e|ed|ing)",
         r"organi[sz](?:ed|e|ing)", r"(?:to-do |check)?lists?", r"spreadsheet",
         r"checklist", r"on time", r"before the deadline",
         r"prepar(?:e|ed|ing)", r"budget", r"goals?",
         r"disciplin(?:e|ed)", r"on track", r"in advance", r"ahead of time",
         r"double[- ]check(?:ed)?", r"tidy", r"label(?:l)?ed", r"calendar", r"routine",
         ),
        (r"forg(?:o|e)t(?:ten|ting)?", r"late", r"last[- ]minute",
         r"procrastinat(?:e|ed|ing)", r"put(?:ting)? (?:it )?off", r"mess(?:y)?",
         r"lost my", r"misplaced", r"(?:never|don't) plan", r"wing(?:ing)? it",
         r"can't be bothered", r"oops", r"chaos", r"disorgani[sz]ed", r"lazy",
         r"skipped (?:the|my) (?:gym|class|workout)", r"missed (?:the|my|another)",
         r"no idea where"),
    ),
    "agreeableness": (
        (r"help(?:ed|ing)? (?:my|a|the|her|him|them|out|people|others)",
         r"volunteer(?:ed|ing)?", r"happy for (?:her|him|them)",
         r"proud of (?:her|him|them)", r"grateful", r"appreciate", r"care about",
         r"look(?:ed|ing)? after", r"forgiv(?:e|en)", r"kind(?:ness)?",
         r"support(?:ed|ing|ive)?", r"for (?:my|the) (?:neighbou?r|colleagues?|team)",
         r"bless", r"generous", r"make sure everyone", r"happy to help"),
        (r"idiots?", r"stupid", r"useless", r"incompetent", r"annoy(?:ing|ed|s)",
         r"shout(?:ed|ing)", r"yell(?:ed|ing)", r"argu(?:e|ed|ing)", r"rude",
         r"(?:don't|do not) care (?:if|what|about)", r"not my problem", r"pathetic",
         r"moron", r"fool", r"nonsense", r"fire (?:him|her|them)", r"harsh",
         r"told (?:him|her|them) off"),
    ),
}

_COMPILED = {trait: tuple(re.compile(r"\b(?:" + "|".join(words) + r")\b")
                          for words in ends)
             for trait, ends in MARKERS.items()}


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
#: A question that asks for something ("Is there anything people forget to pack?") says
#: nothing of the asker; a worried one ("I'm so stressed, what if I fail?") does.
_ASKING = re.compile(r"^\s*(what|when|where|who|which|why|how|do|does|did|is|are|was|"
                     r"were|can|could|would|will|should|have|has|any)\b.*\?\s*$")


def count_markers(text: str, trait: str) -> tuple[int, int]:
    """How many high-end and low-end markers of ``trait`` the text holds, its questions
    aside. The low end is matched first and its words removed: a negation ("not
    worried") is a marker of the low end only."""
    high, low = _COMPILED[trait]
    lowered = " ".join(s for s in _SENTENCE.findall(text.lower().replace("\u2019", "'"))
                       if not _ASKING.match(s))
    lows = len(low.findall(lowered))
    rest = low.sub(" ", lowered)
    return len(high.findall(rest)), lows


def observe_markers(message: str) -> BigFiveScores:
    """One observation of the Big Five from one message: each trait at the end its
    markers show (more of them than of the other end), else neutral."""
    observed: dict[str, int] = {}
    for trait in MARKERS:
        high, low = count_markers(message, trait)
        if high > low:
            observed[trait] = TRAIT_LEVEL_SCORES["high"]
        elif low > high:
            observed[trait] = TRAIT_LEVEL_SCORES["low"]
    return BigFiveScores.model_validate(
        {trait: observed.get(trait, NEUTRAL_SCORE) for trait in MARKERS})
