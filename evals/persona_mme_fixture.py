"""A small Persona-MME-format fixture: two users' histories (``user_data.json``) and
questions in the style of the 17 public sample questions, with real photos of a pet from
the Yo'LLaVA folder. The texts are ours; the photos are copied from the data folder when the
fixture is written (never committed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

#: (photo file in yollava_bo/images/train, name in the fixture)
PHOTOS = (("0.jpg", "bo_park.jpg"), ("1.jpg", "bo_sofa.jpg"))

MAYA: dict[str, Any] = {
    "profile": {"name": "Maya", "age": 31, "job": "graphic designer", "city": "Leeds"},
    "sessions": [
        [
            {"time": "2024-09-02 18:10",
             "user": "Meet Bo, my corgi! <img> We just got back from the park, he chased "
                     "every pigeon.",
             "assistant": "Bo looks adorable! Sounds like a busy park trip."},
            {"time": "2024-09-02 18:14",
             "user": "I'm really into watercolour painting these days, I paint every "
                     "evening after work.",
             "assistant": "Watercolour every evening, lovely routine!"},
            {"time": "2024-09-02 18:20",
             "user": "Every Saturday I walk Bo to the farmers market and then grab a flat "
                     "white at Hopper's Cafe.",
             "assistant": "A market walk and a flat white, a great Saturday."},
        ],
        [
            {"time": "2024-09-10 20:05",
             "user": "My sister Lia is visiting next month, she's the one who got me into "
                     "drawing when we were kids.",
             "assistant": "How nice that Lia is coming; she started your art journey!"},
            {"time": "2024-09-10 20:09",
             "user": "Honestly I've gone off watercolour, it feels too fiddly. I signed up "
                     "for a pottery class and I love working with clay now.",
             "assistant": "Pottery sounds like a great change!"},
            {"time": "2024-09-10 20:15",
             "user": "My goal is to run a 10k before Christmas; I'm training three times "
                     "a week.",
             "assistant": "A 10k before Christmas, good luck with the training!"},
        ],
        [
            {"time": "2024-09-18 19:30",
             "user": "Bo on his favourite sofa cushion <img> He refuses to share it.",
             "assistant": "Bo clearly owns that cushion!"},
            {"time": "2024-09-18 19:34",
             "user": "I finished my first clay mug at pottery class, it's a bit wonky but "
                     "I love it. I'll give it to Lia.",
             "assistant": "A handmade mug for Lia is a wonderful gift."},
        ],
    ],
    "imgs": [f"images/{name}" for _, name in PHOTOS],
}

TOM: dict[str, Any] = {
    "profile": {"name": "Tom", "age": 45, "job": "history teacher", "city": "York"},
    "sessions": [
        [
            {"time": "2024-10-01 16:40",
             "user": "Planning lessons on the Roman Empire this term. My students love it "
                     "when we build things, last year they made a model aqueduct.",
             "assistant": "Hands-on projects like the aqueduct sound great."},
            {"time": "2024-10-01 16:45",
             "user": "I prefer structured small-group work; big open debates get chaotic "
                     "in my class.",
             "assistant": "Small structured groups it is."},
        ],
        [
            {"time": "2024-10-08 17:20",
             "user": "Started a vegetable patch with my daughter Ella. We planted garlic "
                     "and broad beans.",
             "assistant": "Garlic and broad beans, nice start with Ella!"},
            {"time": "2024-10-08 17:26",
             "user": "I want to finish reading 'SPQR' by Mary Beard before half term to "
                     "use it in class.",
             "assistant": "SPQR is a great choice for the class."},
        ],
    ],
    "imgs": [],
}

QUESTIONS: list[dict[str, Any]] = [
    {"user": "maya", "type": "Memory Recall", "question_type": "Semantic Information Recall",
     "time": "2024-09-25 20:00",
     "query": "Remind me, what is the name of the cafe where I get coffee on Saturdays?",
     "choices": {"(a)": "Stomping Ground.", "(b)": "Hopper's Cafe.", "(c)": "Lia's Kitchen.",
                 "(d)": "The Clay Cup."}, "answer": "(b)"},
    {"user": "maya", "type": "Memory Recall", "question_type": "Visual Detail Recall",
     "time": "2024-09-25 20:01",
     "query": "In the first photo I sent you of my dog, where had we just been?",
     "choices": {"(a)": "The beach.", "(b)": "The vet.", "(c)": "The park.",
                 "(d)": "Pottery class."}, "answer": "(c)",
     "alignment": {"chosen": "You had just come back from the park, where Bo chased every "
                             "pigeon he could find.",
                   "rejected": "I think you were at the beach that day, it looked sunny."}},
    {"user": "maya", "type": "Preference Recognition",
     "question_type": "Latest Preference Recognition", "time": "2024-09-25 20:02",
     "query": "Which craft am I most into right now?",
     "choices": {"(a)": "Watercolour painting.", "(b)": "Knitting.", "(c)": "Pottery.",
                 "(d)": "Photography."}, "answer": "(c)",
     "alignment": {"chosen": "Pottery, by far: you swapped the fiddly watercolours for clay "
                             "and just made your first mug.",
                   "rejected": "Watercolour painting, you paint every evening after work."}},
    {"user": "maya", "type": "Behavioral Awareness",
     "question_type": "Behavioral Pattern Recognition", "time": "2024-09-25 20:03",
     "query": "After the farmers market on Saturday, what do I usually do next?",
     "choices": {"(a)": "Go running.", "(b)": "Grab a flat white.", "(c)": "Visit Lia.",
                 "(d)": "Paint."}, "answer": "(b)"},
    {"user": "maya", "type": "Behavioral Awareness", "question_type": "Long-term Goal Tracking",
     "time": "2024-09-25 20:04",
     "query": "What was that running goal I set myself?",
     "choices": {"(a)": "A marathon in spring.", "(b)": "A 5k this week.",
                 "(c)": "A 10k before Christmas.", "(d)": "I don't know."}, "answer": "(c)"},
    {"user": "maya", "type": "Relationship Understanding",
     "question_type": "Relationship Recognition", "time": "2024-09-25 20:05",
     "query": "Who got me into drawing in the first place?",
     "choices": {"(a)": "My teacher.", "(b)": "My sister Lia.", "(c)": "My pottery tutor.",
                 "(d)": "Bo."}, "answer": "(b)"},
    {"user": "maya", "type": "Intent Inference", "question_type": "Explicit Intent Inference",
     "time": "2024-09-25 20:06",
     "query": "What did I say I'd do with the first mug I made?",
     "choices": {"(a)": "Sell it.", "(b)": "Keep it for coffee.", "(c)": "Give it to Lia.",
                 "(d)": "Use it for Bo's water."}, "answer": "(c)"},
    {"user": "tom", "type": "Personalized Growth Modeling",
     "question_type": "Generalizing to New Scenarios", "time": "2024-10-15 18:00",
     "query": "I want my class to practise public speaking. Which format suits me best?",
     "choices": {"(a)": "A big open debate.", "(b)": "Solo speeches.",
                 "(c)": "Structured small-group presentations.", "(d)": "No preparation."},
     "answer": "(c)",
     "alignment": {"chosen": "Structured small-group presentations: they keep the order you "
                             "like and still get everyone talking.",
                   "rejected": "Go for a big open debate, the chaos is half the fun."}},
    {"user": "tom", "type": "Memory Recall", "question_type": "Semantic Information Recall",
     "time": "2024-10-15 18:01",
     "query": "What did we plant in the vegetable patch with my daughter?",
     "choices": {"(a)": "Tomatoes and basil.", "(b)": "Garlic and broad beans.",
                 "(c)": "Potatoes.", "(d)": "Nothing yet."}, "answer": "(b)"},
    {"user": "tom", "type": "Behavioral Awareness", "question_type": "Long-term Goal Tracking",
     "time": "2024-10-15 18:02",
     "query": "Which book did I want to finish before half term?",
     "choices": {"(a)": "SPQR.", "(b)": "The Iliad.", "(c)": "Rome's Last Citizen.",
                 "(d)": "I don't know."}, "answer": "(a)"},
]


def write_fixture(root: Path, yollava: Path) -> Path:
    """Write the fixture under ``root`` (photos copied from ``yollava``); returns the
    questions file. ``data_path`` values are relative to ``root``."""
    train = yollava / "images" / "train"
    if not train.is_dir():
        raise FileNotFoundError(f"{train} does not exist (the yollava_bo folder?)")
    (root / "images").mkdir(parents=True, exist_ok=True)
    for source, name in PHOTOS:
        shutil.copyfile(train / source, root / "images" / name)
    paths = {}
    for key, history in (("maya", MAYA), ("tom", TOM)):
        target = root / "samples" / key / "user_data.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(history, indent=1), "utf-8")
        paths[key] = f"./samples/{key}/user_data.json"
    questions = [{"data_path": paths[q["user"]], **{k: v for k, v in q.items() if k != "user"}}
                 for q in QUESTIONS]
    out = root / "questions.json"
    out.write_text(json.dumps(questions, indent=1), "utf-8")
    return out
