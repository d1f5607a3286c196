"""What the FAQs of an area are about: the categories a parent can browse (よくある質問)."""

from __future__ import annotations

import sqlite_utils

TOPICS = 12  # categories offered at once (a quick reply holds 13 items)


def faq_categories(db: sqlite_utils.Database, area: str | None, limit: int = TOPICS) -> list[str]:
    """The categories with the most FAQs serving ``area`` (its own and every area's), largest first."""
    rows = db.execute(
        "SELECT category, count(*) AS n FROM faqs WHERE category IS NOT NULL AND category != '' "
        "AND (area IS NULL OR area = ? OR area IN (SELECT city FROM areas WHERE name = ?)) "
        "GROUP BY category ORDER BY n DESC, category LIMIT ?",
        [area, area, limit],
    ).fetchall()
    return [r[0] for r in rows]
