"""A font for figures whose words are Chinese.

matplotlib's bundled DejaVu Sans has no CJK glyphs: a zh-TW label drawn with it comes
out as empty boxes. A system font that has them is looked for; without one a figure
keeps English words (cjk_family() is None) rather than draw boxes.
"""

from __future__ import annotations

import functools
from pathlib import Path

# Traditional Chinese faces first (Taiwan's glyph forms), then any CJK face.
CJK_FAMILIES = ("Noto Sans CJK TC", "Noto Sans TC", "Source Han Sans TC", "Microsoft JhengHei",
                "PingFang TC", "Heiti TC", "AR PL UMing TW", "WenQuanYi Micro Hei",
                "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans CJK JP")
# Font files that may hold those families (Debian's fonts-noto-cjk, fonts-wqy-*, ...).
_FILE_HINTS = ("cjk", "wqy", "uming", "ukai", "jhenghei", "msjh", "pingfang", "sourcehan",
               "notosanstc")


def _first_known(font_manager) -> str | None:
    known = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FAMILIES if name in known), None)


@functools.cache
def cjk_family() -> str | None:
    """The first of CJK_FAMILIES that matplotlib can draw with, or None."""
    from matplotlib import font_manager

    found = _first_known(font_manager)
    if found is not None:
        return found
    # matplotlib's font list is cached per user when first built: a font installed
    # after that is missing from it until its file is added.
    for path in font_manager.findSystemFonts():
        if any(hint in Path(path).name.lower() for hint in _FILE_HINTS):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # unreadable or not a font
                continue
    return _first_known(font_manager)


def font_families(lang: str) -> list[str] | None:
    """matplotlib's font.family for text in `lang`: DejaVu Sans for Latin letters and
    digits, falling back glyph by glyph to a CJK face; None when Chinese text cannot
    be drawn (no such face on this machine)."""
    if lang == "en":
        return ["DejaVu Sans"]
    family = cjk_family()
    return None if family is None else ["DejaVu Sans", family]
