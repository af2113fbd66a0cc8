"""A self-contained HTML page of one user's memory (inline SVG and images, no network),
readable without hovering: every node shows its text and date, preferences are drawn as
a timeline where a closed one stays visible beside its successor, photos are thumbnails,
the user is one node, and a filter by kind hides what is not wanted.

Three views of the same memories: the preference timeline, the graph (the user, the
entities below them, each memory beside what it is about) and a dated list.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

from memory_graph.graph import MemoryGraph
from memory_graph.schema import (
    Edge,
    EdgeType,
    Entity,
    Event,
    Fact,
    Image,
    Node,
    NodeLabel,
    Routine,
    utc_now,
)
from memory_graph.views import MEMORY_LABELS

#: Kind of memory shown → (filter name, colour).
KINDS: dict[NodeLabel, tuple[str, str]] = {
    NodeLabel.FACT: ("facts", "#c62828"), NodeLabel.EVENT: ("episodes", "#ef6c00"),
    NodeLabel.ROUTINE: ("routines", "#2e7d32"), NodeLabel.IMAGE: ("photos", "#6a1b9a"),
    NodeLabel.ENTITY: ("entities", "#1565c0")}
LIKES, DISLIKES, CLOSED = "#2e7d32", "#c62828", "#9e9e9e"
#: Names an extraction may give the user themself; such an entity is drawn as the user.
SELF_NAMES = frozenset({"user", "me", "i", "myself", "you"})
TEXT_CHARS = 58


@dataclass(frozen=True)
class Memory:
    """One shown memory: its node, text, date, whether it still holds, what it is about."""

    node: Node
    text: str
    date: datetime | None
    until: datetime | None
    about: tuple[str, ...]
    thumbnail: str = ""  # a data: URI for photos

    @property
    def kind(self) -> str:
        return KINDS[self.node.label][0]

    @property
    def colour(self) -> str:
        return KINDS[self.node.label][1]


def write_graph_html(memory: MemoryGraph, user_id: str, path: Path) -> dict[str, int]:
    """Write the page for ``user_id`` to ``path``; returns how many nodes and edges it drew."""
    user = memory.user(user_id)
    name = user.name or user_id
    every_entity = memory.entities(user_id)
    entities = [e for e in every_entity if not _is_self(e, name)]
    self_ids = {e.id for e in every_entity} - {e.id for e in entities}
    preferences = [e for e in memory.preferences(user_id, history=True)
                   if e.target not in self_ids]
    memories = _memories(memory, user_id, entities)
    names = {e.id: e.name for e in entities}
    latest = max([m.date for m in memories if m.date] + [e.valid_to for e in preferences
                                                         if e.valid_to] or [utc_now()])
    graph, drawn_edges = _graph_svg(name, entities, memories, preferences)
    page = _PAGE.format(
        title=html.escape(f"Memory of {name}"), name=html.escape(name),
        user_id=html.escape(user_id), today=utc_now().date().isoformat(),
        counts=html.escape(_counts(memories, preferences)),
        filters=_filters(memories, preferences),
        timeline=_preference_svg(preferences, names, latest),
        graph=graph, listing=_listing(memories, names))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return {"nodes": 1 + len(entities) + len(memories), "edges": drawn_edges}


def _is_self(entity: Entity, user_name: str) -> bool:
    names = {n.casefold() for n in (entity.name, *entity.aliases)}
    return bool(names & (SELF_NAMES | {user_name.casefold()}))


def _memories(memory: MemoryGraph, user_id: str, entities: Sequence[Entity]) -> list[Memory]:
    nodes = [n for label in MEMORY_LABELS for n in memory.nodes(user_id, label)]
    entity_ids = {e.id for e in entities}
    about: dict[str, list[str]] = {}
    for edge in memory.edges(user_id, [n.id for n in nodes],
                             [EdgeType.INVOLVES, EdgeType.DEPICTS], "out"):
        if edge.target in entity_ids and edge.is_current():
            about.setdefault(edge.source, []).append(edge.target)
    found = [Memory(node=n, text=_text(n), date=n.event_time(),
                    until=getattr(n, "valid_to", None), about=tuple(about.get(n.id, ())),
                    thumbnail=_thumbnail(n) if isinstance(n, Image) else "")
             for n in nodes]
    found += [Memory(node=e, text=e.search_text(), date=None, until=None, about=())
              for e in entities]
    return sorted(found, key=lambda m: (m.date is None, m.date or utc_now(), m.text))


def _text(node: Node) -> str:
    if isinstance(node, Fact):
        return node.statement
    if isinstance(node, Event):
        return node.summary
    if isinstance(node, Routine):
        return f"{node.kind}: {node.description}"
    if isinstance(node, Image):
        return f"photo: {node.caption or 'no description'}"
    return node.search_text()


def _thumbnail(image: Image, size: int = 160) -> str:
    """The photo as a small inline PNG, or '' when its file is not on this machine."""
    from PIL import Image as PILImage

    if not image.uri.startswith("file:"):
        return ""
    try:
        with PILImage.open(Path(unquote(urlparse(image.uri).path))) as picture:
            picture.thumbnail((size, size))
            buffer = io.BytesIO()
            picture.convert("RGB").save(buffer, format="PNG")
    except OSError:
        return ""
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _counts(memories: Sequence[Memory], preferences: Sequence[Edge]) -> str:
    tally: dict[str, int] = {}
    for item in memories:
        tally[item.kind] = tally.get(item.kind, 0) + 1
    parts = [f"{n} {kind}" for kind, n in tally.items()]
    closed = sum(not e.is_current() for e in preferences)
    parts.append(f"{len(preferences)} preferences ({closed} changed)")
    return ", ".join(parts)


def _filters(memories: Sequence[Memory], preferences: Sequence[Edge]) -> str:
    present = {m.kind: m.colour for m in memories}
    if preferences:
        present["preferences"] = LIKES
    return " ".join(
        f'<label style="color:{colour}"><input type="checkbox" checked '
        f'onchange="document.body.classList.toggle(\'hide-{kind}\', !this.checked)"> '
        f'{kind}</label>' for kind, colour in present.items())


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else ""


def _short(text: str, limit: int = TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


# -- the preference timeline --

def _preference_svg(preferences: Sequence[Edge], names: dict[str, str],
                    latest: datetime) -> str:
    """One row per version of a preference, grouped by what it is about, on a time axis
    from the first preference to ``latest`` (the newest memory): a closed version ends
    with a mark at its date, and the version that replaced it starts there."""
    if not preferences:
        return "<p>No preferences yet.</p>"
    targets = sorted({e.target for e in preferences},
                     key=lambda t: min(_start(e) for e in preferences if e.target == t))
    rows = [edge for target in targets
            for edge in sorted((e for e in preferences if e.target == target), key=_start)]
    first = min(_start(e) for e in rows)
    last = max([latest, *(_start(e) for e in rows), *(e.valid_to for e in rows if e.valid_to)])
    last += max(last - first, timedelta(days=10)) * 0.05
    span = max((last - first).total_seconds(), 1.0)
    left, width, row = 150, 640, 24

    def x(moment: datetime) -> float:
        return left + (moment - first).total_seconds() / span * width

    height = 34 + row * len(rows)
    parts = [f'<svg class="k-preferences" width="{left + width + 260}" height="{height}" '
             f'font-size="12">']
    for tick in _ticks(first, last):
        parts.append(f'<line x1="{x(tick):.0f}" y1="18" x2="{x(tick):.0f}" y2="{height}" '
                     f'stroke="#eee"/><text x="{x(tick):.0f}" y="12" font-size="11" '
                     f'text-anchor="middle" fill="#555">{tick.date().isoformat()}</text>')
    shown: set[str] = set()
    for index, edge in enumerate(rows):
        y = 24 + row * index
        if edge.target not in shown:
            shown.add(edge.target)
            parts.append(f'<text x="{left - 8}" y="{y + 12}" text-anchor="end" '
                         f'font-weight="bold">'
                         f'{html.escape(_short(names.get(edge.target, edge.target), 20))}'
                         f'</text>')
        parts.append(_preference_bar(edge, x(_start(edge)), x(edge.valid_to or last), y,
                                     left + width))
    parts.append("</svg>")
    return "".join(parts)


def _preference_bar(edge: Edge, x1: float, x2: float, y: float, label_x: float) -> str:
    likes = edge.type is EdgeType.PREFERS
    current = edge.is_current()
    colour = (LIKES if likes else DISLIKES) if current else CLOSED
    verb = "likes" if likes else "dislikes"
    span = f"{_day(_start(edge))} → {_day(edge.valid_to) if edge.valid_to else 'now'}"
    label = f"{verb if current else 'used to ' + verb.rstrip('s')} · {span}"
    dash = "" if current else ' stroke-dasharray="5 3"'
    end = (f'<line x1="{x2:.0f}" y1="{y}" x2="{x2:.0f}" y2="{y + 18}" stroke="#424242" '
           f'stroke-width="3"/>' if not current else
           f'<path d="M{x2:.0f},{y + 1} l8,8 l-8,8 z" fill="{colour}"/>')
    return (f'<g><title>{html.escape(edge.reason or edge.fact)}</title>'
            f'<rect x="{x1:.0f}" y="{y + 2}" width="{max(x2 - x1, 4):.0f}" height="14" '
            f'fill="{colour}" fill-opacity="{0.85 if current else 0.5}" stroke="{colour}"'
            f'{dash}/>{end}<text x="{label_x + 14:.0f}" y="{y + 13}" '
            f'fill="{colour if current else "#555"}">{html.escape(label)}</text></g>')


def _start(edge: Edge) -> datetime:
    return edge.valid_from or edge.recorded_at


def _ticks(first: datetime, last: datetime, count: int = 6) -> Iterable[datetime]:
    step = (last - first) / count
    return (first + step * i for i in range(count + 1))


# -- the graph --

def _graph_svg(name: str, entities: Sequence[Entity], memories: Sequence[Memory],
               preferences: Sequence[Edge]) -> tuple[str, int]:
    """Three columns: the user at the top of the middle one with the entities below them,
    and each memory on the left or right beside the entity it is about (grouped by that
    entity, one line each, date first), so that every label is horizontal and none
    overlaps another."""
    order = {e.id: i for i, e in enumerate(entities)}
    groups: dict[str, list[Memory]] = {}
    for item in memories:
        if item.node.label is not NodeLabel.ENTITY:
            first = min(item.about, key=lambda a: order.get(a, len(order)), default="")
            groups.setdefault(first, []).append(item)
    columns: tuple[list[tuple[str, list[Memory]]], list[tuple[str, list[Memory]]]] = ([], [])
    for key in sorted(groups, key=lambda k: order.get(k, -1)):
        lighter = min(columns, key=lambda c: sum(len(g) for _, g in c))
        lighter.append((key, groups[key]))
    row, top, gap = 20, 90, 14
    middle, reach = 590, 150
    position: dict[str, tuple[float, float]] = {}
    group_y: dict[str, list[float]] = {}
    for side, column in zip((-1, 1), columns, strict=True):
        y = float(top)
        for key, items in column:
            for item in items:
                position[item.node.id] = (middle + side * reach, y)
                group_y.setdefault(key, []).append(y)
                y += row
            y += gap
    entity_y = _spread([sum(group_y.get(e.id, [top + 24.0 * order[e.id]])) /
                        len(group_y.get(e.id, [0.0])) for e in entities], 24, top)
    height = max([top + 40.0, *entity_y, *(y for _, y in position.values())]) + 40
    user_xy = (float(middle), 40.0)
    at_entity = {e.id: (float(middle), y) for e, y in zip(entities, entity_y, strict=True)}
    current_pref = {e.target: e for e in preferences if e.is_current()}
    lines: list[str] = []
    marks: list[str] = []
    for entity in entities:
        ex, ey = at_entity[entity.id]
        pref = current_pref.get(entity.id)
        if pref is not None:
            colour = LIKES if pref.type is EdgeType.PREFERS else DISLIKES
            lines.append(f'<path class="k-preferences" d="M{user_xy[0]:.0f},'
                         f'{user_xy[1]:.0f} C{middle - 90},{user_xy[1] + 30:.0f} '
                         f'{middle - 90},{ey:.0f} {ex:.0f},{ey:.0f}" fill="none" '
                         f'stroke="{colour}" stroke-width="2.5"/>')
        kind = "" if entity.kind in ("other", "thing") else f" · {entity.kind}"
        marks.append(f'<g class="k-entities"><circle cx="{ex:.0f}" cy="{ey:.0f}" r="7" '
                     f'fill="{KINDS[NodeLabel.ENTITY][1]}"/><text x="{ex + 11:.0f}" '
                     f'y="{ey + 4:.0f}" font-weight="bold" class="halo">'
                     f'{html.escape(_short(entity.name, 22))}<tspan font-weight="normal" '
                     f'fill="#555">{html.escape(kind)}</tspan></text></g>')
    drawn = 0
    for item in (m for m in memories if m.node.id in position):
        mx, my = position[item.node.id]
        for target in item.about or ("",):
            tx, ty = at_entity.get(target, user_xy)
            lines.append(f'<line class="k-{item.kind}" x1="{mx:.0f}" y1="{my:.0f}" '
                         f'x2="{tx:.0f}" y2="{ty:.0f}" stroke="{item.colour}" '
                         f'stroke-opacity="0.3"/>')
            drawn += 1
        marks.append(_memory_label(item, mx, my, left=mx < middle))
    svg = (f'<svg width="{2 * middle}" height="{height:.0f}" font-size="11.5">'
           f'{"".join(lines)}<circle cx="{user_xy[0]:.0f}" cy="{user_xy[1]:.0f}" r="20" '
           f'fill="#212121"/><text x="{user_xy[0]:.0f}" y="{user_xy[1] + 4:.0f}" '
           f'text-anchor="middle" fill="white" font-weight="bold">'
           f'{html.escape(_short(name, 9))}</text>{"".join(marks)}</svg>')
    return svg, drawn + len(current_pref)


def _spread(wanted: Sequence[float], gap: float, top: float) -> list[float]:
    """``wanted`` positions moved apart (in order) so that neighbours are ``gap`` apart."""
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    placed = [0.0] * len(wanted)
    floor = top
    for i in order:
        placed[i] = max(wanted[i], floor)
        floor = placed[i] + gap
    return placed


def _memory_label(item: Memory, x: float, y: float, *, left: bool) -> str:
    closed = f" (until {_day(item.until)})" if item.until else ""
    text = html.escape(f"{_day(item.date)} · {_short(item.text)}{closed}")
    style = ' text-decoration="line-through" fill="#777"' if item.until else ""
    mark = (f'<image href="{item.thumbnail}" x="{x - 10:.0f}" y="{y - 10:.0f}" width="20" '
            f'height="20" preserveAspectRatio="xMidYMid slice"/>' if item.thumbnail else
            f'<circle cx="{x:.0f}" cy="{y:.0f}" r="5" fill="{item.colour}"/>')
    anchor, dx = ("end", -14) if left else ("start", 14)
    return (f'<g class="k-{item.kind}">{mark}<text x="{x + dx:.0f}" y="{y + 4:.0f}" '
            f'text-anchor="{anchor}"{style}>{text}</text></g>')


# -- the dated list --

def _listing(memories: Sequence[Memory], names: dict[str, str]) -> str:
    rows = []
    for item in memories:
        if item.node.label is NodeLabel.ENTITY:
            continue
        about = ", ".join(names[a] for a in item.about if a in names)
        until = f'<br><small>no longer true from {_day(item.until)}</small>' \
            if item.until else ""
        picture = f'<img src="{item.thumbnail}" alt="">' if item.thumbnail else ""
        text_class = ' class="closed"' if item.until else ""
        rows.append(
            f'<tr class="k-{item.kind}"><td>{_day(item.date)}</td><td><span class="badge" '
            f'style="background:{item.colour}">{item.kind.rstrip("s")}</span></td>'
            f'<td><span{text_class}>{html.escape(item.text)}</span>{until}</td>'
            f'<td>{html.escape(about)}</td><td>{picture}</td></tr>')
    return "".join(rows)


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 24px; color: #212121; }}
h2 {{ margin-top: 32px; border-bottom: 1px solid #ddd; }}
.filters label {{ margin-right: 14px; font-weight: bold; }}
.badge {{ color: white; border-radius: 8px; padding: 1px 7px; font-size: 12px; }}
table {{ border-collapse: collapse; }}
td {{ padding: 4px 10px; border-bottom: 1px solid #eee; vertical-align: top; }}
td:first-child {{ white-space: nowrap; }}
td img {{ max-width: 120px; max-height: 90px; border-radius: 4px; }}
.closed {{ text-decoration: line-through; color: #777; }}
.halo {{ paint-order: stroke; stroke: white; stroke-width: 3px; }}
.hide-facts .k-facts, .hide-episodes .k-episodes, .hide-routines .k-routines,
.hide-photos .k-photos, .hide-entities .k-entities,
.hide-preferences .k-preferences {{ display: none; }}
</style></head>
<body>
<h1>Memory of {name} <small style="color:#777">({user_id}, {today})</small></h1>
<p>{counts}</p>
<p class="filters">Show: {filters}</p>
<h2>Preferences over time</h2>
<p>Solid: holds now. Grey, dashed, with an end mark: held until the date shown, then
changed.</p>
{timeline}
<h2>Graph</h2>
<p>{name} at the top; below them the people, pets, places and things they talked about
(a green line from {name}: likes it now, red: dislikes it now); left and right, each memory
with its date, linked to what it is about. Crossed out: no longer true.</p>
{graph}
<h2>Memories by date</h2>
<table>{listing}</table>
</body></html>
"""
