"""axe-core in the page under test: the serious and critical violations it finds.

axe.min.js comes with the axe-playwright-python package (requirements-dev.txt); it is injected
as a script and run in the page, so that the shadow DOM of the widget is checked too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import axe_playwright_python
from playwright.async_api import Page

AXE_SCRIPT = Path(axe_playwright_python.__file__).parent / "axe.min.js"


async def serious_violations(page: Page, selector: str | None = None) -> list[dict[str, Any]]:
    """{"id", "impact", "help", "targets"} of each serious/critical rule that fails."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated, not added as a script tag: the pages' Content-Security-Policy refuses
        # inline scripts, and the tools of the test are not the page's scripts.
        await page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    result = await page.evaluate(
        "async (selector) => await axe.run(selector ? { include: [[selector]] } : document,"
        " { resultTypes: ['violations'] })",
        selector,
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "targets": [node["target"] for node in v["nodes"]]}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]
