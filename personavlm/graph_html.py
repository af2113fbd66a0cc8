"""A self-contained HTML view of one user's memory graph (inline SVG, no network)."""

from __future__ import annotations

import html
import math
from pathlib import Path

import networkx as nx

from memory_graph.graph import MemoryGraph
from memory_graph.schema import EdgeType, NodeLabel
from nodes.reply_prompt import describe_node

COLOURS = {
    NodeLabel.USER: "#222222", NodeLabel.SESSION: "#9e9e9e", NodeLabel.TURN: "#bdbdbd",
    NodeLabel.IMAGE: "#8e24aa", NodeLabel.ENTITY: "#1e88e5", NodeLabel.EVENT: "#fb8c00",
    NodeLabel.ROUTINE: "#43a047", NodeLabel.FACT: "#e53935",
    NodeLabel.PERSONALITY: "#6d4c41",
}
#: Raw turns and sessions are many and add little to the picture; personality has a plot.
SHOWN = (NodeLabel.USER, NodeLabel.ENTITY, NodeLabel.EVENT, NodeLabel.ROUTINE,
         NodeLabel.FACT, NodeLabel.IMAGE)


def write_graph_html(memory: MemoryGraph, user_id: str, path: Path,
                     size: int = 900) -> dict[str, int]:
    memory.user(user_id)
    nodes = {n.id: n for label in SHOWN for n in memory.nodes(user_id, label)}
    edges = [e for e in memory.edges(user_id, list(nodes))
             if e.source in nodes and e.target in nodes and e.type is not EdgeType.FROM_TURN]
    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from((e.source, e.target) for e in edges)
    layout = nx.spring_layout(graph, seed=7, k=1.5 / math.sqrt(max(len(nodes), 1)))

    def xy(node_id: str) -> tuple[float, float]:
        x, y = layout[node_id]
        return (x + 1.1) / 2.2 * size, (y + 1.1) / 2.2 * size

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
             f'font-family="sans-serif" font-size="11">']
    for edge in edges:
        (x1, y1), (x2, y2) = xy(edge.source), xy(edge.target)
        current = edge.is_current()
        colour = {EdgeType.PREFERS: "#43a047", EdgeType.DISLIKES: "#e53935"}.get(
            edge.type, "#999999")
        dash = "" if current else ' stroke-dasharray="4 3"'
        title = html.escape(f"{edge.type.value}{'' if current else ' (closed)'} "
                            f"{edge.reason or edge.fact}")
        parts.append(f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" '
                     f'stroke="{colour}"{dash}><title>{title}</title></line>')
    for node_id, node in nodes.items():
        x, y = xy(node_id)
        label = node.label.value if node.label is not NodeLabel.ENTITY else getattr(
            node, "name", "")
        text = describe_node(node) if node.label is not NodeLabel.USER else "you"
        parts.append(f'<g><circle cx="{x:.0f}" cy="{y:.0f}" r="7" '
                     f'fill="{COLOURS[node.label]}"><title>{html.escape(text)}</title>'
                     f'</circle><text x="{x + 9:.0f}" y="{y + 4:.0f}">'
                     f'{html.escape(str(label)[:28])}</text></g>')
    parts.append("</svg>")
    legend = " ".join(f'<span style="color:{c}">&#9679; {label.value}</span>'
                      for label, c in COLOURS.items() if label in SHOWN)
    page = (f"<!doctype html><meta charset='utf-8'><title>Memory of {html.escape(user_id)}"
            f"</title><h2>Memory graph of {html.escape(user_id)}</h2><p>{legend}. Green edge:"
            f" likes, red: dislikes, dashed: closed in time. Hover for details.</p>"
            + "".join(parts))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return {"nodes": len(nodes), "edges": len(edges)}
