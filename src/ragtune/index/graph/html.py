"""A self-contained HTML view of the knowledge graph: an SVG laid out in Python (networkx spring layout) and a
few lines of inline JavaScript (hover, click for details and evidence, search, type filter, pan and zoom).
No external scripts, styles or fonts, so the file works offline and can be attached to a report."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

from ragtune.index.graph.knowledge_graph import KnowledgeGraph, atomic_write_text

COLORS = {"document": "#4c566a", "organization": "#d08770", "person": "#b48ead", "defined_term": "#5e81ac",
          "jurisdiction": "#a3be8c", "date": "#ebcb8b", "money": "#88c0d0", "duration": "#8fbcbb",
          "other": "#bf616a"}
WIDTH, HEIGHT, MARGIN = 1200, 800, 40

_STYLE = """
body{margin:0;font:13px system-ui,sans-serif;display:flex;height:100vh;color:#2e3440}
#view{flex:1;position:relative;background:#fafafa}svg{width:100%;height:100%;cursor:grab}
#side{width:340px;overflow:auto;padding:12px;border-left:1px solid #ddd;background:#fff}
line{stroke:#b8bec9;stroke-width:1}circle{stroke:#fff;stroke-width:1.5;cursor:pointer}
text{pointer-events:none;font-size:10px;fill:#2e3440}.dim{opacity:.12}.hit{stroke:#000;stroke-width:3}
#tip{position:absolute;pointer-events:none;background:#2e3440;color:#fff;padding:3px 6px;border-radius:3px;display:none}
.legend label{display:block}.sw{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px}
input[type=search]{width:100%;box-sizing:border-box;padding:4px;margin:6px 0}li{margin-bottom:4px}
.ev{color:#4c566a;font-size:11px}
"""

_SCRIPT = """
const D=JSON.parse(document.getElementById('data').textContent);
const svg=document.querySelector('svg'),tip=document.getElementById('tip'),info=document.getElementById('info');
const circles=[...document.querySelectorAll('circle')],lines=[...document.querySelectorAll('line')];
const labels=[...document.querySelectorAll('text')];
const adj={};D.edges.forEach((e,i)=>{(adj[e.s]=adj[e.s]||[]).push(i);(adj[e.t]=adj[e.t]||[]).push(i);});
const esc=s=>String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
function show(keep,edges){circles.forEach(c=>c.classList.toggle('dim',keep&&!keep.has(+c.dataset.i)));
 labels.forEach(t=>t.classList.toggle('dim',keep&&!keep.has(+t.dataset.i)));
 lines.forEach((l,i)=>l.classList.toggle('dim',edges&&!edges.has(i)));}
function select(i){const n=D.nodes[i],keep=new Set([i]),es=new Set(adj[i]||[]);
 es.forEach(k=>{keep.add(D.edges[k].s);keep.add(D.edges[k].t);});show(keep,es);
 let h=`<h3>${esc(n.name)}</h3><div>${esc(n.type)} · community ${n.community} · ${n.n_chunks} chunk(s)</div>`;
 if(n.aliases.length)h+=`<div>aliases: ${esc(n.aliases.join(', '))}</div>`;
 if(n.description)h+=`<p class=ev>${esc(n.description)}</p>`;
 h+=`<div>documents: ${esc(n.sources.join(', '))}</div><h4>relations</h4><ul>`;
 (adj[i]||[]).forEach(k=>{const e=D.edges[k],out=e.s===i,o=D.nodes[out?e.t:e.s];
  h+=`<li>${out?'':'← '}<b>${esc(e.type)}</b>${e.roles.length?' ('+esc(e.roles.join(', '))+')':''} ${out?'→ ':''}`+
   `<a href=# data-i=${out?e.t:e.s}>${esc(o.name)}</a><div class=ev>${esc(e.evidence)}</div>`+
   `<div class=ev>chunks: ${esc(e.chunks.join(', '))}</div></li>`;});
 info.innerHTML=h+'</ul>';info.querySelectorAll('a').forEach(a=>a.onclick=ev=>{ev.preventDefault();select(+a.dataset.i);});}
circles.forEach(c=>{const n=D.nodes[+c.dataset.i];
 c.onmouseenter=ev=>{tip.style.display='block';tip.textContent=n.name+' ('+n.type+')';};
 c.onmousemove=ev=>{tip.style.left=(ev.offsetX+12)+'px';tip.style.top=(ev.offsetY+12)+'px';};
 c.onmouseleave=()=>tip.style.display='none';c.onclick=ev=>{ev.stopPropagation();select(+c.dataset.i);};});
document.getElementById('q').oninput=ev=>{const q=ev.target.value.toLowerCase();if(!q){show(null,null);return;}
 const keep=new Set(D.nodes.map((n,i)=>[n,i]).filter(([n])=>(n.name+' '+n.aliases.join(' ')).toLowerCase()
 .includes(q)).map(([,i])=>i));show(keep,new Set());};
document.querySelectorAll('.legend input').forEach(cb=>cb.onchange=()=>{const off=new Set([...document
 .querySelectorAll('.legend input')].filter(x=>!x.checked).map(x=>x.value));
 circles.forEach(c=>c.style.display=off.has(D.nodes[+c.dataset.i].type)?'none':'');
 labels.forEach(t=>t.style.display=off.has(D.nodes[+t.dataset.i].type)?'none':'');
 lines.forEach((l,i)=>l.style.display=off.has(D.nodes[D.edges[i].s].type)||off.has(D.nodes[D.edges[i].t].type)?'none':'');});
let vb=svg.viewBox.baseVal,drag=null;
svg.onwheel=ev=>{ev.preventDefault();const f=ev.deltaY>0?1.15:1/1.15,r=svg.getBoundingClientRect(),
 x=vb.x+vb.width*(ev.clientX-r.left)/r.width,y=vb.y+vb.height*(ev.clientY-r.top)/r.height;
 vb.x=x-(x-vb.x)*f;vb.y=y-(y-vb.y)*f;vb.width*=f;vb.height*=f;};
svg.onmousedown=ev=>{drag=[ev.clientX,ev.clientY];};window.onmouseup=()=>drag=null;
svg.onclick=()=>show(null,null);
window.onmousemove=ev=>{if(!drag)return;const r=svg.getBoundingClientRect();vb.x-=(ev.clientX-drag[0])*vb.width/r.width;
 vb.y-=(ev.clientY-drag[1])*vb.height/r.height;drag=[ev.clientX,ev.clientY];};
"""


def _short(source: str) -> str:
    return source.rsplit("/", 1)[-1]


def render_html(graph: KnowledgeGraph, title: str = "Knowledge graph", max_nodes: int = 400) -> str:
    """The HTML page; with more than ``max_nodes`` nodes, documents and the best-connected entities are kept."""
    import networkx as nx

    g = graph.graph
    keep = sorted(g.nodes, key=lambda n: (g.nodes[n]["type"] != "document", -g.degree(n), n))[:max_nodes]
    simple = nx.Graph(g.subgraph(keep))
    pos = nx.spring_layout(simple, seed=0, k=2.0 / math.sqrt(max(len(keep), 1)), iterations=100) if keep else {}
    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0

    def xy(n: str) -> tuple[float, float]:
        x, y = pos[n]
        return (round(MARGIN + (x - min(xs)) / span_x * (WIDTH - 2 * MARGIN), 1),
                round(MARGIN + (y - min(ys)) / span_y * (HEIGHT - 2 * MARGIN), 1))

    index = {n: i for i, n in enumerate(keep)}
    nodes = [{"id": n, "name": d["name"], "type": d["type"], "aliases": d["aliases"], "n_chunks": len(d["chunk_ids"]),
              "sources": [_short(s) for s in d["sources"]], "description": d.get("description", "")[:300],
              "community": d.get("community", -1)} for n in keep for d in [g.nodes[n]]]
    edges = [{"s": index[u], "t": index[v], "type": d["type"], "roles": d["roles"], "chunks": d["chunk_ids"][:8],
              "evidence": (d["evidence"][0] if d["evidence"] else "")[:300]}
             for u, v, d in g.edges(data=True) if u in index and v in index]
    svg = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg"><g>']
    for e in edges:
        (x1, y1), (x2, y2) = xy(keep[e["s"]]), xy(keep[e["t"]])
        svg.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>')
    for i, n in enumerate(keep):
        x, y = xy(n)
        d = g.nodes[n]
        r = round(4 + 1.6 * math.sqrt(g.degree(n)) + (4 if d["type"] == "document" else 0), 1)
        svg.append(f'<circle data-i="{i}" cx="{x}" cy="{y}" r="{r}" fill="{COLORS.get(d["type"], "#999")}"/>')
    labelled = {n for n in keep if g.nodes[n]["type"] in ("document", "organization", "person")}
    for i, n in enumerate(keep):
        if n in labelled:
            x, y = xy(n)
            svg.append(f'<text data-i="{i}" x="{x + 8}" y="{y + 3}">{html.escape(g.nodes[n]["name"][:40])}</text>')
    svg.append("</g></svg>")
    types = sorted({d["type"] for d in nodes})
    legend = "".join(f'<label><input type="checkbox" value="{t}" checked><span class="sw" '
                     f'style="background:{COLORS.get(t, "#999")}"></span>{t}</label>' for t in types)
    stats = graph.stats()
    omitted = g.number_of_nodes() - len(keep)
    data = json.dumps({"nodes": nodes, "edges": edges}, ensure_ascii=False).replace("</", "<\\/")
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body><div id=view>{''.join(svg)}<div id=tip></div></div>"
            f"<div id=side><h2>{html.escape(title)}</h2><div>{stats['documents']} documents, {stats['entities']} "
            f"entities, {stats['edges']} relations, {stats['cross_document_entities']} entities shared by "
            f"documents, {stats['communities']} communities"
            f"{f' ({omitted} least-connected nodes not drawn)' if omitted else ''}.</div>"
            f'<input id=q type=search placeholder="find an entity"><div class=legend>{legend}</div>'
            f"<div id=info><p>Click a node for its relations, evidence and supporting chunks. Scroll to zoom, "
            f"drag to pan.</p></div></div><script type=application/json id=data>{data}</script>"
            f"<script>{_SCRIPT}</script></body></html>")


def write_html(graph: KnowledgeGraph, path: Path, title: str = "Knowledge graph", max_nodes: int = 400) -> Path:
    atomic_write_text(path, render_html(graph, title, max_nodes))
    return path
