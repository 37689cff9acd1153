"""The year-in-review card as an SVG document: 1200x630 (what link previews show), drawn from
figures only, so it renders anywhere without a browser. Every name is XML-escaped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 1200, 630
ACCENT = "#3ccf7a"
MUTED = "#9aa0a6"


@dataclass(frozen=True, slots=True)
class CardItem:
    name: str
    by: str  # artists of a track, empty for an artist
    plays: int


@dataclass(frozen=True, slots=True)
class CardDay:
    day: date
    plays: int


@dataclass(frozen=True, slots=True)
class Card:
    title: str
    minutes: int
    plays: int
    artists: int
    tracks: int
    new_artists: int
    streak_days: int
    top_day: CardDay | None
    top_artists: list[CardItem]
    top_tracks: list[CardItem]
    hours: list[int]  # 24 play counts


def _text(x: float, y: float, content: str, size: int, fill: str = "#e8eaed", **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    head = f'<text x="{x:g}" y="{y:g}" font-size="{size}" fill="{fill}"{extra}>'
    return f"{head}{escape(content)}</text>"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _list(x: int, y: int, heading: str, items: list[CardItem]) -> list[str]:
    out = [_text(x, y, heading, 22, MUTED)]
    for i, item in enumerate(items):
        row = y + 44 + i * 40
        out.append(_text(x, row, f"{i + 1}", 22, ACCENT, font_weight="700"))
        out.append(_text(x + 30, row, _clip(item.name, 30), 22, font_weight="600"))
        detail = f"{item.plays:,} plays" + (f" · {_clip(item.by, 26)}" if item.by else "")
        out.append(_text(x + 30, row + 18, detail, 14, MUTED))
    if not items:
        out.append(_text(x, y + 44, "No plays in this range.", 20, MUTED))
    return out


def _hours(x: int, y: int, width: int, height: int, counts: list[int]) -> list[str]:
    peak = max(counts, default=0) or 1
    slot = width / max(1, len(counts))
    out = [_text(x, y - 12, "When you listened (hour of day)", 18, MUTED)]
    for hour, count in enumerate(counts):
        bar = height * count / peak
        out.append(
            f'<rect x="{x + hour * slot + 2:g}" y="{y + height - bar:g}" '
            f'width="{slot - 4:g}" height="{bar:g}" rx="3" fill="{ACCENT}"/>'
        )
        if hour % 6 == 0:
            out.append(_text(x + hour * slot + slot / 2, y + height + 18, f"{hour}h", 13, MUTED,
                             text_anchor="middle"))  # fmt: skip
    return out


def render_card(card: Card) -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="system-ui, -apple-system, Segoe UI, '
        f'Roboto, sans-serif" role="img" aria-label="{escape(card.title)} in review">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#121416"/>',
        _text(48, 64, f"{card.title} in review", 34, font_weight="700"),
        _text(WIDTH - 48, 64, "EchoStats", 24, ACCENT, font_weight="700", text_anchor="end"),
        _text(48, 150, f"{card.minutes:,}", 72, ACCENT, font_weight="800"),
        _text(48, 182, "minutes listened", 22, MUTED),
    ]
    facts = [
        f"{card.plays:,} plays",
        f"{card.tracks:,} tracks · {card.artists:,} artists",
        f"{card.new_artists:,} new artists discovered",
        f"Longest streak: {card.streak_days:,} days",
    ]
    if card.top_day is not None:
        facts.append(f"Top day: {card.top_day.day:%d %b %Y} ({card.top_day.plays:,} plays)")
    parts += [_text(48, 236 + i * 34, fact, 22) for i, fact in enumerate(facts)]
    parts += _list(470, 120, "Top artists", card.top_artists)
    parts += _list(830, 120, "Top tracks", card.top_tracks)
    parts += _hours(48, 470, 380, 110, card.hours)
    parts.append("</svg>")
    return "".join(parts)
