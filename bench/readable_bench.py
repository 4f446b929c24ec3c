"""Results the reader can read: the share of the top 10 in a language the reader named, nDCG@10 and the judged
English courses reached, for the Hindi and Tamil queries of data/eval/readable_queries.jsonl over the whole
sample catalog, before (multilingual cosines as they are) and after, in one run on the same index.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/readable_bench.py [--home DIR]

Without --home the sample catalog is loaded into a scratch home and indexed (about 4 minutes on two cores; a
--home kept from an earlier run, or one with the sample catalog indexed, is opened as it is)."""

from __future__ import annotations

import argparse
import copy
import tempfile
from dataclasses import replace
from pathlib import Path

from models import ingest_file, list_courses, make_engine, session_scope, upgrade
from models.sample_data import DATA_DIR, SAMPLE_FILES
from search import open_or_build_searcher
from search.readable_eval import evaluate_readable, load_readable_queries, markdown

QUERIES = DATA_DIR / "eval" / "readable_queries.jsonl"
EXAMPLE = "सूचना का अधिकार"  # the example: the Right to Information


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="KARMAYOGI_HOME to use (kept); a scratch one otherwise")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or Path(scratch)
        home.mkdir(parents=True, exist_ok=True)
        engine = make_engine(f"sqlite:///{home / 'karmayogi.db'}")
        upgrade(engine)
        with session_scope(engine) as session:
            empty = not list_courses(session)
        if empty:
            for kind, path in SAMPLE_FILES:
                ingest_file(engine, kind, path)
        searcher = open_or_build_searcher(engine, home, notify=print)
        with session_scope(engine) as session:
            courses = {course.identifier: course for course in list_courses(session)}
        print(markdown(evaluate_readable(searcher, load_readable_queries(QUERIES))))
        for label, on in (("before", False), ("after", True)):
            variant = copy.copy(searcher)
            variant.config = replace(searcher.config, readable_first=on, centre_languages=on)
            found = variant.search(EXAMPLE, 8, language="hi")
            print(f"\n{EXAMPLE!r}, top 8, {label}:")
            for identifier, score in found:
                course = courses[identifier]
                print(f"  {score:7.3f}  {','.join(course.languages):5s}  {course.name}")
        engine.dispose()


if __name__ == "__main__":
    main()
