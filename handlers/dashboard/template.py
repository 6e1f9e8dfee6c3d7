"""The dashboard page's HTML, server-rendered from the snapshot's JSON document.

`render_page(document, assets, events_url, data_url)` writes the whole page with the current
numbers in it (every value escaped), so a first paint needs no script; `static/dashboard.js`
then draws the charts and the map from the same document and keeps it live (events, else
polling), rebuilding exactly this markup (the same classes and `data-` fields). No inline
script or style anywhere (the Content-Security-Policy allows only the bot's own files): bars
are SVG rectangles whose width is an attribute, the script's labels come from `data-`
attributes (every Vietnamese string is in `bot.monitoring.dashboard_page_texts`).

Layouts (`static/dashboard.css`): the TV layout for any viewport at least 1280 px wide (one
screen, no scrolling, text at least 16 px) and the phone layout below (one column).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from bot.monitoring import dashboard_page_texts as texts

if TYPE_CHECKING:
    from handlers.dashboard.assets import Assets

Document = dict[str, Any]


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def map_asset(map_name: str | None) -> str | None:
    """The bundled map file of a snapshot's `map` (`provinces`, `communes/15_lao_cai.geojson`)."""
    if not map_name:
        return None
    stem = map_name.removesuffix(".geojson")
    return f"maps/{stem}.json"


def _bar(turnout: float | None) -> str:
    if turnout is None:
        return '<span class="bar hatch"></span>'
    width = max(0.0, min(100.0, float(turnout)))
    return (
        '<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
        '<rect class="bar-track" width="100" height="10"></rect>'
        f'<rect class="bar-fill" width="{width:.1f}" height="10"></rect></svg>'
    )


def _headline(h: Document) -> str:
    return (
        '<section id="headline" class="headline">'
        f'<div class="figure main"><span class="label">{_e(texts.TURNOUT)}</span>'
        f'<span class="value" data-field="turnout_text">{_e(h["turnout_text"])}</span></div>'
        f'<div class="figure"><span class="label">{_e(texts.VOTERS)}</span>'
        f'<span class="value"><span data-field="voted_text">{_e(h["voted_text"])}</span>'
        f'<span class="of"> / <span data-field="registered_text">{_e(h["registered_text"])}'
        "</span></span></span></div>"
        f'<div class="figure"><span class="label">{_e(texts.AREAS)}</span>'
        f'<span class="value"><span data-field="areas_reported_text">'
        f'{_e(h["areas_reported_text"])}</span><span class="of"> / <span'
        f' data-field="areas_total_text">{_e(h["areas_total_text"])}</span></span></span>'
        f'<span class="sub">{_e(texts.AREAS_REPORTED)} · <span data-field="areas_finished_text">'
        f"{_e(h['areas_finished_text'])}</span> {_e(texts.AREAS_FINISHED)}</span></div>"
        f'<div class="figure"><span class="label">{_e(texts.STAFF)}</span>'
        f'<span class="value"><span data-field="staff_tested_text">{_e(h["staff_tested_text"])}'
        f'</span><span class="of"> / <span data-field="staff_total_text">'
        f"{_e(h['staff_total_text'])}</span></span></span>"
        f'<span class="sub"><span data-field="positives_text">{_e(h["positives_text"])}</span>'
        f" {_e(texts.POSITIVES)}</span></div>"
        "</section>"
    )


def child_row(child: Document) -> str:
    """One child's row (the script builds the same)."""
    reported = bool(child["reported"])
    return (
        f'<li class="child{"" if reported else " not-reported"}" data-code="{_e(child["code"])}">'
        f'<span class="name">{_e(child["short_name"])}</span>'
        f"{_bar(child['turnout'] if reported else None)}"
        f'<span class="pct">{_e(child["turnout_text"])}</span>'
        f'<span class="votes">{_e(child["voted_text"])}/{_e(child["registered_text"])}</span>'
        f'<span class="areas">{_e(child["areas_text"])}</span></li>'
    )


def _children(children: list[Document]) -> str:
    rows = "".join(child_row(c) for c in children)
    return (
        f'<section id="children" class="panel"{"" if children else " hidden"}>'
        f'<h2>{_e(texts.CHILDREN)} <span class="hint">({_e(texts.CHILDREN_ORDER)})</span></h2>'
        f'<ol class="children">{rows}</ol></section>'
    )


def _curve(curve: Document) -> str:
    items = []
    for series in curve["series"][:1]:
        points = series["points"]
        if points:
            last = points[-1]
            items.append(
                f'<li class="unit">{_e(series["label"])}: {_e(last["turnout_text"])}'
                f" ({_e(last['time'])})</li>"
            )
    return (
        f'<section id="curve" class="panel" data-children-label="{_e(texts.CURVE_CHILDREN)}">'
        f"<h2>{_e(texts.CURVE)}</h2>"
        f'<div class="chart" id="curve-chart"></div>'
        f'<ul class="curve-legend">{"".join(items)}</ul></section>'
    )


def missing_items(missing: Document) -> str:
    """The areas not reported, grouped by commune (the script builds the same)."""
    parts: list[str] = []
    for group in missing["groups"]:
        for area in group["areas"]:
            where = f"{group['name']} – " if group.get("name") else ""
            parts.append(
                f'<li class="area" data-code="{_e(area["code"])}">'
                f'<span class="area-name">{_e(where)}{_e(area["short_name"])}</span>'
                f'<span class="chiefs">{_e(area["chiefs_text"])}</span></li>'
            )
    if missing.get("more_text"):
        parts.append(f'<li class="more">{_e(missing["more_text"])}</li>')
    return "".join(parts)


def _missing(missing: Document) -> str:
    total = int(missing["total"])
    body = (
        f'<ul class="missing">{missing_items(missing)}</ul>'
        if total
        else f'<p class="none">{_e(texts.NOTHING_MISSING)}</p>'
    )
    return (
        f'<section id="missing" class="panel" data-more="{_e(texts.MORE_MISSING)}"'
        f' data-none="{_e(texts.NOTHING_MISSING)}">'
        f'<h2>{_e(texts.MISSING)} <span class="count" data-field="missing_total">'
        f"{_e(total) if total else ''}</span></h2>{body}</section>"
    )


def _map(document: Document, assets: Assets) -> str:
    asset = map_asset(document.get("map"))
    url = assets.url(asset) if asset and asset in assets.names else ""
    legend = "".join(
        f'<li class="c{i}" data-from="{low}"><span class="swatch"></span>{_e(label)}</li>'
        for i, (low, label) in enumerate(texts.MAP_LEGEND)
    )
    return (
        f'<section id="map" class="panel"{"" if url else " hidden"} data-url="{_e(url)}"'
        f' data-static="/static/">'
        f"<h2>{_e(texts.MAP)}</h2>"
        '<div class="chart" id="map-chart"></div>'
        f'<ul class="legend">{legend}'
        f'<li class="nr"><span class="swatch"></span>{_e(texts.NOT_REPORTED)}</li>'
        f'<li class="outside" hidden><span class="swatch"></span>{_e(texts.MAP_OUTSIDE)}</li></ul>'
        f'<p class="attribution">{_e(document.get("map_attribution") or "")}</p></section>'
    )


def _share_bar(percent: float, half: bool) -> str:
    width = f"{max(0.0, min(100.0, float(percent))):.2f}"
    line = (
        '<line class="half-line" x1="50" x2="50" y1="0" y2="10"'
        ' vector-effect="non-scaling-stroke"></line>'
        if half
        else ""
    )
    return (
        '<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
        '<rect class="bar-track" width="100" height="10"></rect>'
        f'<rect class="bar-fill" width="{width}" height="10"></rect>{line}</svg>'
    )


def _results(results: Document | None) -> str:
    """Results night's panel (hidden while `results` is null); the script builds the same."""
    more = f' data-more="{_e(texts.MORE_ELECTORAL_UNITS)}"'
    if not results:
        return f'<section id="results" class="panel" hidden{more}></section>'
    labels = results["labels"]
    ballots = "".join(
        f'<li class="ballot" data-ballot="{_e(b["ballot"])}">'
        f'<span class="b-label">{_e(b["label"])}</span>'
        f'<span class="b-seats">{_e(b["seats_text"])}</span>'
        + _share_bar(b["units_percent"], False)
        + f'<span class="b-units">{_e(labels["units_complete"])} {_e(b["units_text"])}</span>'
        + (f'<span class="b-flags">{_e(b["flags_text"])}</span>' if b["flags_text"] else "")
        + "</li>"
        for b in results["ballots"]
    )
    units = []
    for u in results["units"]:
        rows = "".join(
            f'<li class="cand{" elected" if c["elected"] else ""}" data-number="{c["number"]}">'
            f'<span class="c-name">{"✓ " if c["elected"] else ""}{_e(c["name"])}</span>'
            + _share_bar(c["percent"], True)
            + f'<span class="c-pct">{_e(c["percent_text"])}</span>'
            f'<span class="c-votes">{_e(c["votes_text"])} {_e(labels["votes"])}</span></li>'
            for c in u["candidates"]
        )
        flag = f'<span class="flag">{_e(u["flag_text"])}</span>' if u["flag_text"] else ""
        state = "complete" if u["complete"] else "incomplete"
        units.append(
            f'<article class="eunit {state}" data-code="{_e(u["code"])}"><h3>'
            f'<span class="eu-name">{_e(u["name"])}</span><span class="eu-meta">'
            f"{_e(u['ballot_label'])} · {_e(u['areas_text'])} · {_e(u['status_text'])}</span>"
            f'{flag}</h3><ol class="cands">{rows}</ol></article>'
        )
    more_text = results.get("more_text")
    return (
        f'<section id="results" class="panel"{more}><h2>{_e(results["title"])}</h2>'
        f'<ul class="ballots">{ballots}</ul><p class="results-key">'
        f'<span class="key-elected">✓ {_e(labels["elected"])}</span>'
        f'<span class="key-half">{_e(labels["half"])}</span></p>'
        f'<div class="eunits">{"".join(units)}</div>'
        f'<p class="more"{"" if more_text else " hidden"}>{_e(more_text or "")}</p></section>'
    )


def render_page(document: Document, assets: Assets, events_url: str, data_url: str) -> str:
    """The whole page for one snapshot (valid HTML5, no inline script or style)."""
    unit = document["unit"]
    h = document["headline"]
    css = assets.url("dashboard.css")
    js = assets.url("dashboard.js")
    return (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(texts.PAGE_TITLE)} – {_e(unit['label'])}</title>"
        f'<link rel="stylesheet" href="{_e(css)}">'
        f'<script src="{_e(js)}" defer></script></head>'
        + ('<body class="results-night"' if document.get("results") else "<body")
        + f' data-events="{_e(events_url)}" data-data="{_e(data_url)}"'
        f' data-version="{_e(document["version"])}" data-not-reported="{_e(texts.NOT_REPORTED)}">'
        '<header class="top">'
        f'<h1><span class="title">{_e(texts.PAGE_TITLE)}</span>'
        f' <span class="unit" data-field="unit_label">{_e(unit["label"])}</span></h1>'
        f'<p class="as-of" data-field="as_of_text">{_e(h["as_of_text"])}</p>'
        f'<p id="status" class="status" data-live="{_e(texts.LIVE)}"'
        f' data-disconnected="{_e(texts.DISCONNECTED)}" data-revoked="{_e(texts.REVOKED)}">'
        f"{_e(texts.LIVE)}</p></header>"
        f'<main class="{"with-map" if map_asset(document.get("map")) else "no-map"}">'
        + _headline(h)
        + _children(document["children"])
        + _curve(document["curve"])
        + _missing(document["missing"])
        + _map(document, assets)
        + _results(document.get("results"))
        + f"<noscript><p>{_e(texts.NEEDS_SCRIPT)}</p></noscript>"
        + "</main></body></html>\n"
    )
