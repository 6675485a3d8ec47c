"""Walking a list's pages the way a user does: the pager's Next link, to the end."""

from __future__ import annotations

import re

NEXT = re.compile(r'<a class="page-link" href="([^"#]+)">Next</a>')


def walk_pages(client, url: str) -> list[str]:
    """Each page's HTML from `url` on, following Next until the last page (English pages)."""
    pages = []
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(html)
        found = NEXT.search(html)
        url = found.group(1).replace("&amp;", "&") if found else None
    return pages
