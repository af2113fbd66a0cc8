"""The prompts of the reply and of the retrieval decision (memory work's are
``memory_work.prompts``)."""

from __future__ import annotations

REPLY_SYSTEM = """You are {assistant}, {user}'s friendly personal assistant. The memories \
below are what you know from past conversations with {user}; never invent memories.{profile}
Personality of {user} (adapt your tone to it): {personality}"""

#: The core profile's line of ``REPLY_SYSTEM``, when ``Context.use_profile`` shows it.
PROFILE_LINE = "\nProfile of {user}: {profile}"

#: The parts that change from turn to turn come last, after the stable system prompt and
#: the session's recent turns, so that llama.cpp can reuse its cached prefix.
MEMORY_BLOCK = """[Memories that may be relevant, with dates:
{memories}]
[Current preferences of {user}:
{preferences}]
[Now: {now}]

{text}"""

#: The last words of the reply prompt, by what the message is. One instruction for both
#: made the 1.5B model answer chat as if it were a question ("I don't have enough
#: information") or echo the message back; at the end of the prompt, only the one that
#: applies is given (the system prompt, shared by every turn, stays cached). They hold no
#: example content (names, pets, dates): a small model copies such an example into its
#: answer. They name the user at most once: with the name said five times, the 1.5B model
#: answered "What is my cat called?" with the user's name. Asked for only "the words that
#: answer", it copied the instruction's own list into advice replies; the one short
#: sentence that starts with the answer is measured in docs/results.md (assistant set).
#: A benchmark's answer format is its protocol's (``evals/``): ``Context.answer_format``
#: takes the place of ``ANSWER_FORM`` (two form instructions in one prompt left the
#: model following the first, the product's sentence, under LoCoMo's "a few words").
ANSWER_FORM = "Reply in one short sentence that starts with the answer itself"
ANSWER_HINT = """

({form}, as the memories or this conversation give it (your own earlier replies are \
not evidence). For "when", give the date a memory says, or the date its "yesterday" or \
"last week" means. If nothing says it, or it was said of someone else, say it has not \
been mentioned. If advice or ideas are asked for, suggest one or two that fit what is \
liked now.)"""
CHAT_HINT = """

(Reply warmly, in one or two sentences of your own, to what was just said, without \
repeating it or your last reply. What is said now is true now, even where an older memory \
differs. You are talking with the person who wrote the message; their pets and the people \
they mention are not them.)"""
REMEMBER_HINT = """

(In one short sentence, tell {user} you will remember it.)"""

DECIDE_SUFFIX = """

(Not a reply yet.) Which words would find in the memories what this message asks about \
the past? Give {"keywords":"...","start":null,"end":null} (dates YYYY-MM-DD only if the \
message names a time), or {"keywords":""} if it asks nothing of the past."""

DECIDE_SHAPE = '{"keywords":"...","start":null,"end":null}'
