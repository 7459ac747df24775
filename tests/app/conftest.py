"""Browser-test settings: pytest-playwright drives the system's Chromium.

Playwright's own browser download does not work on the project's machines, so the browser is
Debian's ``/usr/bin/chromium``; tests that need a browser skip when it is not installed.
"""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

# --headless etc.: no display, no GPU, no sandbox (containers) and no calls home at start-up.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, browser_name):
    """pytest-playwright's launch options (--headed, --slowmo, ...) plus the system Chromium."""
    if browser_name not in (None, "chromium"):
        return browser_type_launch_args
    if not CHROMIUM.is_file():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}, which is not installed")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}
