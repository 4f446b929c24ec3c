"""A serving process's catalog follower alone, for tests/test_index_crash.py to kill: it loads the index under
HOME, follows the feed of the database at URL, and saves the served index after every applied change."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from api.recommending import LiveCatalog
from models import make_engine
from search import RetrievalConfig

SEARCH = RetrievalConfig(multilingual_encoder=None)


def main() -> None:
    home, url = Path(sys.argv[1]), sys.argv[2]
    catalog = LiveCatalog(make_engine(url), home, SEARCH, poll_seconds=0.01, persist_after=0.0)
    catalog.get()
    catalog.start()
    print("ready", flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    main()
