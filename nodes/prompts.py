"""Every prompt of the agent, in one place."""

from __future__ import annotations

REPLY_SYSTEM = """You are {assistant}, a friendly personal assistant. You are talking with \
{user}; you remember past conversations with {user} through the memories below.
When {user} asks about the past, answer with only the words that answer it, as the \
memories say it: a name, a date, a place, a number or a short phrase, not a sentence. \
(Asked "What is Tom's dog called?", answer "Rex", not "Tom's dog is called Rex.") For \
"when", give the memory's date, or the date its "yesterday" or "last week" means. If no \
memory says it, or a memory says it of someone else, say it was not mentioned.
When {user} asks you to remember something, say you will. Otherwise reply directly, \
warmly and briefly (one to three sentences). Never invent memories.

Core profile of {user}:
{profile}

Personality of {user} (adapt your tone and suggestions to it):
{personality}"""

#: The parts that change from turn to turn come last, after the stable system prompt and
#: the session's recent turns, so that llama.cpp can reuse its cached prefix.
MEMORY_BLOCK = """[Memories that may be relevant, with dates:
{memories}]
[Current preferences of {user}:
{preferences}]
[Now: {now}]

{text}"""

DECIDE_SUFFIX = """

(Not a reply yet.) If this message asks about the past, which words would find what it \
asks in the memories? Give {"keywords":"...","start":null,"end":null} (start/end as \
YYYY-MM-DD only when the message names a time), or {"keywords":""} when it asks nothing \
of the past."""

DECIDE_SHAPE = '{"keywords":"...","start":null,"end":null}'

EXTRACT_SYSTEM = """You extract long-term memories about the user from one chat message.
Only keep what the user states about themselves, their life, people, pets, places, plans \
and tastes, in this message. A question or greeting states nothing new: give empty lists \
for it. Write facts as short third-person sentences naming the user "{user}". \
Preferences need what is liked or disliked, named as in the message. "remember" lists what \
the user explicitly asks to remember. "visual" describes what each attached photo shows \
(photo numbers start at 1). "entities" lists the people, pets, places, objects and \
activities mentioned. Use empty lists when there is nothing."""

#: Worked examples, given as earlier chat turns (a small model copies an example that sits
#: in the instructions into its answer; as past turns it keeps them apart). USER stands
#: for the user's name.
EXTRACT_EXAMPLES = (
    ("Time: 2023-01-10 09:00\nPrevious assistant message: none\nmessage: Just adopted a "
     "beagle called Max, photo attached! I can't stand jogging, swimming is my thing. "
     "Remember that my sister Lia's birthday is June 3.\nphotos: 1: a small beagle on grass",
     '{"facts":[{"statement":"USER adopted a beagle named Max.","entities":["Max"]},'
     '{"statement":"USER has a sister named Lia.","entities":["Lia"]}],'
     '"preferences":[{"entity":"jogging","kind":"activity","likes":false,'
     '"reason":"can\'t stand it"},{"entity":"swimming","kind":"activity","likes":true,'
     '"reason":"it is their thing"}],'
     '"remember":["Lia\'s birthday is June 3."],'
     '"visual":[{"image":1,"entity":"Max","kind":"pet","description":"Max, a small beagle"}],'
     '"entities":[{"name":"Max","kind":"pet"},{"name":"Lia","kind":"person"},'
     '{"name":"jogging","kind":"activity"},{"name":"swimming","kind":"activity"}]}'),
    ("Time: 2023-02-03 13:40\nPrevious assistant message: Enjoy your lunch!\nmessage: I "
     "stopped eating meat last week, I can't stand it anymore. Lentil soup is my new "
     "favourite.\nphotos: none",
     '{"facts":[{"statement":"USER stopped eating meat.","entities":["meat"]}],'
     '"preferences":[{"entity":"meat","kind":"food","likes":false,'
     '"reason":"can\'t stand it anymore"},{"entity":"lentil soup","kind":"food",'
     '"likes":true,"reason":"new favourite"}],"remember":[],"visual":[],'
     '"entities":[{"name":"meat","kind":"food"},{"name":"lentil soup","kind":"food"}]}'),
    ("Time: 2023-01-12 20:15\nPrevious assistant message: none\nmessage: Any idea what I "
     "could cook tonight?\nphotos: none",
     '{"facts":[],"preferences":[],"remember":[],"visual":[],"entities":[]}'),
)

#: What the repair retry is shown as the expected shape.
EXTRACT_SHAPE = EXTRACT_EXAMPLES[0][1]

EXTRACT_USER = """Time: {at}
Previous assistant message: {previous}
message: {text}
photos: {photos}"""

CONSOLIDATE_SYSTEM = """You consolidate a finished conversation session between {user} and \
the assistant into long-term memory. Give: "topics", the main episodes or topics (at \
most 3) of the session, each a dated one-sentence summary with the numbers of the turns \
it covers and the entities involved; "routines", habits or goals of {user} shown in the \
session (at most 5); \
"profile", the updated core profile of {user} in at most four sentences, merging the old \
profile with what this session adds (keep old facts unless contradicted).{facts} Shape:
{shape}"""

CONSOLIDATE_SHAPE = ('{"topics":[{"summary":"...","turns":[1,2],"entities":["..."]}],'
                     '"routines":[{"description":"...","kind":"habit"}],"profile":"..."}')

#: Bulk ingestion (``extraction_mode="session"``) asks the consolidation for the facts too.
CONSOLIDATE_FACTS_CLAUSE = """ Also give "facts": what the people in the session state \
about themselves, their lives, people, pets, places, plans, dates and tastes (at most 6, \
each different), each one short third-person sentence naming the person, with the numbers \
of the turns that say it."""

CONSOLIDATE_NOTES_SHAPE = ('{"topics":[{"summary":"...","turns":[1,2],"entities":["..."]}],'
                           '"facts":[{"statement":"...","turns":[3],"entities":["..."]}],'
                           '"routines":[{"description":"...","kind":"habit"}],"profile":"..."}')

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

PERSONALITY_SHAPE = ('{"signals":[{"trait":"neuroticism","level":"high",'
                     '"quote":"I keep worrying about it"}]}')

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
