"""Every prompt of memory work, in one place: photo descriptions, extraction,
consolidation, personality, entity matching and reconciliation."""

from __future__ import annotations

DESCRIBE_PHOTO = "Describe this photo in one factual sentence: who or what, where, doing what."

EXTRACT_SYSTEM = """You extract long-term memories about the user from {source}.
Only keep what the user states about themselves, their life, people, pets, places, plans \
and tastes, in {where}. A question or greeting states nothing new: give empty lists \
for it. Write facts as short third-person sentences naming the user "{user}". \
Every like, love, dislike or hate goes in "preferences", with what is liked or disliked \
named as in the message. "remember" lists what the user explicitly asks to remember. \
"visual" describes what each attached photo shows (photo numbers start at 1); each fact \
names the people, pets, places, objects and activities it is about in its "entities". Use \
empty lists when there is nothing."""

#: Worked examples, given as earlier chat turns (a small model copies an example that sits
#: in the instructions into its answer; as past turns it keeps them apart). USER stands
#: for the user's name. They hold no example content (names, pets, places, foods, dates):
#: a slot in square brackets stands for each, so a copied example is no memory (and
#: ``keep_grounded`` drops it: the message never says it).
EXTRACT_EXAMPLES = (
    ("Time: [DATE] 09:00\nPrevious assistant message: none\nmessage: Just adopted a "
     "[ANIMAL] called [PET], photo attached! I can't stand [ACTIVITY A], [ACTIVITY B] is "
     "my thing. Remember that my sister [PERSON]'s birthday is [DAY].\nphotos: 1: a small "
     "[ANIMAL] on grass",
     '{"facts":[{"statement":"USER adopted a [ANIMAL] named [PET].","entities":["[PET]"]},'
     '{"statement":"USER has a sister named [PERSON].","entities":["[PERSON]"]}],'
     '"preferences":[{"entity":"[ACTIVITY A]","kind":"activity","likes":false,'
     '"reason":"can\'t stand it"},{"entity":"[ACTIVITY B]","kind":"activity","likes":true,'
     '"reason":"it is their thing"}],'
     '"remember":["[PERSON]\'s birthday is [DAY]."],'
     '"visual":[{"image":1,"entity":"[PET]","kind":"pet",'
     '"description":"[PET], a small [ANIMAL]"}]}'),
    ("Time: [DATE] 13:40\nPrevious assistant message: Enjoy your lunch!\nmessage: I "
     "stopped eating [FOOD A] last week, I can't stand it anymore. [FOOD B] is my new "
     "favourite.\nphotos: none",
     '{"facts":[{"statement":"USER stopped eating [FOOD A].","entities":["[FOOD A]"]}],'
     '"preferences":[{"entity":"[FOOD A]","kind":"food","likes":false,'
     '"reason":"can\'t stand it anymore"},{"entity":"[FOOD B]","kind":"food",'
     '"likes":true,"reason":"new favourite"}],"remember":[],"visual":[]}'),
    ("Time: [DATE] 20:15\nPrevious assistant message: none\nmessage: Any idea what I "
     "could cook tonight?\nphotos: none",
     '{"facts":[],"preferences":[],"remember":[],"visual":[]}'),
)

#: What the repair retry is shown as the expected shape.
EXTRACT_SHAPE = EXTRACT_EXAMPLES[0][1]

EXTRACT_USER = """Time: {at}
Previous assistant message: {previous}
message: {text}
photos: {photos}"""

CONSOLIDATE_SYSTEM = """You consolidate a finished conversation session into long-term \
memory about {user}, from {user}'s messages in it. Give, in this order: "profile", the \
core profile of {user} in at most two sentences, merging the old profile with what this \
session adds; "topics", the main episodes of the session (at most 2), each one sentence \
of at most 15 words with the people, pets or places involved; "routines", at most 2 \
habits {user} keeps (say how often) or goals {user} works towards, each about one thing, \
and none when the session shows none. Shape:
{shape}"""

CONSOLIDATE_SHAPE = ('{"profile":"...","topics":[{"summary":"...","entities":["..."]}],'
                     '"routines":[{"description":"...","kind":"habit"}]}')

#: Bulk ingestion (``extraction_mode="session"``): topics, the session's facts, routines.
NOTES_SYSTEM = """You take notes of a finished conversation session for long-term memory. \
Give, in this order: "topics", the main episodes of the session (at most 2), each one \
sentence of at most 15 words with the people, pets or places involved; "facts", at most 4 \
things the people state about themselves, their lives, people, plans, dates and tastes, \
each one short third-person sentence naming the person; "routines", at most 2 habits or \
goals of the people, each about one thing, none when the session shows none. Shape:
{shape}"""

NOTES_SHAPE = ('{"topics":[{"summary":"...","entities":["..."]}],"facts":["..."],'
               '"routines":[{"description":"...","kind":"habit"}]}')

CONSOLIDATE_USER = """Old profile: {profile}
Session of {date}:
{transcript}"""

PERSONALITY_SYSTEM = """Find clear signs of the Big Five personality traits in the user's \
recent messages: openness (high: curious, adventurous, creative; low: sticks to the \
familiar), conscientiousness (high: organised, disciplined; low: careless, unplanned), \
extraversion (high: sociable, outgoing; low: reserved, solitary), agreeableness (high: warm, \
kind, helpful; low: harsh, uncaring), neuroticism (high: anxious, stressed, moody; low: \
calm, relaxed). List only the traits the messages clearly show, each with its level and \
the user's own words that show it. Plain facts, errands and questions show no trait: give \
an empty list for them."""

PERSONALITY_SHAPE = '{"signals":[{"trait":"...","level":"high","quote":"..."}]}'

ENTITY_MATCH = """Known entities of the user: {candidates}.
A message mentions "{name}" ({kind}). Is it one of the known entities? Answer \
{{"same_as":"<known name>"}} or {{"same_as":null}}."""

ENTITY_MATCH_SHAPE = '{"same_as":null}'

RECONCILE_FACTS = """Known facts about {user}:
{known}
New facts from {user}'s latest message:
{new}
For each new fact that says the same thing as a known fact, give "same". For each new \
fact that makes a known fact no longer true (it changed, stopped, was replaced), give \
"updates". Leave out every other pair; give {{"verdicts":[]}} when there is none."""

RECONCILE_SHAPE = '{"verdicts":[{"new":"A","old":2,"relation":"updates"}]}'

#: Worked examples, given as earlier chat turns, with slots in square brackets for their
#: content (see ``EXTRACT_EXAMPLES``); USER stands for the user's name.
RECONCILE_EXAMPLES = (
    (RECONCILE_FACTS.format(user="USER",
                            known="1. USER lives in [CITY A].\n2. USER has a [ANIMAL].",
                            new="A. USER moved to [CITY B].\nB. USER's [ANIMAL] is called "
                                "[PET]."),
     '{"verdicts":[{"new":"A","old":1,"relation":"updates"}]}'),
    (RECONCILE_FACTS.format(user="USER",
                            known="1. USER works at [WORKPLACE].\n2. USER eats [FOOD].",
                            new="A. USER has a job at [WORKPLACE].\nB. USER stopped eating "
                                "[FOOD]."),
     '{"verdicts":[{"new":"A","old":1,"relation":"same"},'
     '{"new":"B","old":2,"relation":"updates"}]}'),
)
