"""The dashboard page as server-rendered HTML: the current numbers are in the page itself.

Rendered from the snapshot's JSON document (`bot.monitoring.dashboard.snapshot_json`), every
value escaped; no inline script or style (the Content-Security-Policy allows only the bot's own
files): `dashboard.js` then keeps it live from the event stream, `dashboard.css` lays it out.
The page's layouts (TV, phone), its charts and map build on this markup.
"""

from __future__ import annotations

from html import escape
from typing import Any

from bot.monitoring import dashboard_texts as texts
from handlers.dashboard.assets import Assets


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _headline(h: dict[str, Any]) -> str:
    return (
        '<section id="headline" class="headline">'
        f'<div class="figure"><span class="label">{_e(texts.VOTERS)}</span>'
        f'<span class="value" data-field="voted">{_e(h["voted_text"])}</span>'
        f' / <span data-field="registered">{_e(h["registered_text"])}</span></div>'
        f'<div class="figure"><span class="label">{_e(texts.TURNOUT)}</span>'
        f'<span class="value" data-field="turnout">{_e(h["turnout_text"])}</span></div>'
        f'<div class="figure"><span class="label">{_e(texts.AREAS)}</span>'
        f'<span class="value"><span data-field="areas_reported">{_e(h["areas_reported_text"])}'
        f'</span> / <span data-field="areas_total">{_e(h["areas_total_text"])}</span></span>'
        f' {_e(texts.AREAS_REPORTED)} · <span data-field="areas_finished">'
        f"{_e(h['areas_finished_text'])}</span> {_e(texts.AREAS_FINISHED)}</div>"
        f'<div class="figure"><span class="label">{_e(texts.STAFF_TESTED)}</span>'
        f'<span class="value"><span data-field="staff_tested">{_e(h["staff_tested_text"])}'
        f'</span> / <span data-field="staff_total">{_e(h["staff_total_text"])}</span></span>'
        f' · <span data-field="positives">{_e(h["positives_text"])}</span> {_e(texts.POSITIVES)}'
        "</div>"
        f'<p class="as-of" data-field="as_of_text">{_e(h["as_of_text"])}</p>'
        "</section>"
    )


def _children(children: list[dict[str, Any]]) -> str:
    if not children:
        return '<section id="children" hidden></section>'
    rows = []
    for child in children:
        status = "" if child["reported"] else ' class="not-reported"'
        rows.append(
            f'<tr{status} data-code="{_e(child["code"])}">'
            f'<th scope="row">{_e(child["short_name"])}</th>'
            f"<td>{_e(child['turnout_text'])}</td>"
            f"<td>{_e(child['voted_text'])}/{_e(child['registered_text'])}</td>"
            f"<td>{_e(child['areas_text'])}</td></tr>"
        )
    return (
        f'<section id="children"><h2>{_e(texts.CHILDREN)}</h2><table>'
        f'<thead><tr><th scope="col">{_e(texts.CHILD_UNIT)}</th>'
        f'<th scope="col">{_e(texts.TURNOUT)}</th><th scope="col">{_e(texts.VOTERS)}</th>'
        f'<th scope="col">{_e(texts.AREAS)}</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _curve(curve: dict[str, Any]) -> str:
    items = []
    for series in curve["series"]:
        points = series["points"]
        last = points[-1] if points else None
        value = f"{last['turnout_text']} ({last['time']})" if last else ""
        items.append(f"<li>{_e(series['label'])}: {_e(value)}</li>")
    return (
        f'<section id="curve"><h2>{_e(texts.CURVE)}</h2>'
        f'<ul class="curve-values">{"".join(items)}</ul></section>'
    )


def _missing(missing: dict[str, Any]) -> str:
    if not missing["total"]:
        return (
            f'<section id="missing"><h2>{_e(texts.MISSING)}</h2>'
            f"<p>{_e(texts.NOTHING_MISSING)}</p></section>"
        )
    parts = [f'<section id="missing"><h2>{_e(texts.MISSING)} ({_e(missing["total"])})</h2>']
    for group in missing["groups"]:
        if group["name"]:
            parts.append(f"<h3>{_e(group['name'])}</h3>")
        parts.append("<ul>")
        for area in group["areas"]:
            parts.append(
                f"<li>{_e(area['short_name'])} – {_e(texts.CHIEFS)}: {_e(area['chiefs_text'])}</li>"
            )
        parts.append("</ul>")
    if missing["more_text"]:
        parts.append(f"<p>{_e(missing['more_text'])}</p>")
    parts.append("</section>")
    return "".join(parts)


def render_page(document: dict[str, Any], assets: Assets, events_url: str, data_url: str) -> str:
    """The whole page for one snapshot (valid HTML5, no inline script or style)."""
    unit = document["unit"]
    css = assets.url("dashboard.css")
    js = assets.url("dashboard.js")
    return (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(texts.PAGE_TITLE)} – {_e(unit['label'])}</title>"
        f'<link rel="stylesheet" href="{_e(css)}">'
        f'<script src="{_e(js)}" defer></script></head>'
        f'<body data-events="{_e(events_url)}" data-data="{_e(data_url)}"'
        f' data-version="{_e(document["version"])}">'
        f"<header><h1>{_e(unit['label'])}</h1>"
        f'<p id="status" class="status" data-live="{_e(texts.LIVE)}"'
        f' data-disconnected="{_e(texts.DISCONNECTED)}" data-revoked="{_e(texts.REVOKED)}">'
        f"{_e(texts.LIVE)}</p></header><main>"
        + _headline(document["headline"])
        + _children(document["children"])
        + _curve(document["curve"])
        + _missing(document["missing"])
        + '<section id="results" hidden></section>'
        + f"<noscript><p>{_e(texts.NEEDS_SCRIPT)}</p></noscript>"
        + "</main></body></html>\n"
    )


def render_not_found() -> str:
    """The page of a wrong, expired or revoked link: nothing about any unit."""
    return (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(texts.NOT_FOUND_TITLE)}</title></head>"
        f"<body><h1>{_e(texts.NOT_FOUND_TITLE)}</h1><p>{_e(texts.NOT_FOUND)}</p></body></html>\n"
    )
