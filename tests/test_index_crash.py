"""kill -9 at any moment of a serving process that applies catalog changes and saves its index leaves an index
that loads and equals a consistent state of the catalog: the state at the sequence its manifest records (or,
for an index a load saved, some state the catalog was in)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from embeddings import read_manifest
from models import catalog_fingerprint, ingest_file, latest_sequence, list_courses, load_competency_model, session_scope
from search import build_course_index, index_path, load_searcher
from search.passages import course_text
from tests.conftest import write_jsonl
from tests.crash_follower import SEARCH

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
WORDS = ["noting", "drafting", "files", "procurement", "budget", "audit", "ethics", "grievance", "records"]
State = tuple[dict[str, str], str]  # each course's indexed text, and the catalog's fingerprint


def course(number: int, rng: random.Random) -> dict[str, object]:
    words = rng.sample(WORDS, 4)
    return {
        "identifier": f"do_crash_{number}",
        "name": f"{words[0].title()} and {words[1]}",
        "description": f"A course on {' and '.join(words)}. It covers {words[2]} in depth.",
        "languages": ["en"],
    }


def state(engine: Engine) -> tuple[int, State]:
    with session_scope(engine) as session:
        names = {competency.id: competency.name for competency in load_competency_model(session).competencies}
        texts = {c.identifier: course_text(c, SEARCH.fields, names) for c in list_courses(session)}
        return latest_sequence(session), (texts, catalog_fingerprint(session))


def saved_temporaries(home: Path) -> set[Path]:
    return set(index_path(home).parent.glob(".courses.npz.*.tmp"))


def test_a_kill_9_at_any_moment_leaves_an_index_that_loads_as_a_consistent_state(
    small_kcm_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    engine, rng = small_kcm_engine, random.Random(13)
    ingest_file(engine, "courses", write_jsonl(tmp_path / "start.jsonl", [course(n, rng) for n in range(12)]))
    home = tmp_path / "home"
    build_course_index(engine, home, SEARCH)
    sequence, first = state(engine)
    states: dict[int, State] = {sequence: first}
    built = first  # what the build saved (its manifest records sequence 0)
    environment = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    killed_while_writing = 0
    for round_ in range(5):
        before = saved_temporaries(home)
        follower = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_follower", str(home), sqlite_url],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert follower.stdout is not None and follower.stdout.readline().strip() == b"ready"
            for _ in range(rng.randint(1, 3)):
                edits = [course(number, rng) for number in rng.sample(range(16), rng.randint(1, 3))]
                ingest_file(engine, "courses", write_jsonl(tmp_path / f"edit{round_}.jsonl", edits))
                sequence, current = state(engine)
                states[sequence] = current
                time.sleep(rng.uniform(0, 0.3))
            # Kill as soon as a save is under way (a temporary file appears), or at a random moment after.
            deadline = time.monotonic() + rng.uniform(0.05, 2.0)
            while time.monotonic() < deadline and not saved_temporaries(home) - before:
                time.sleep(0.001)
        finally:
            os.kill(follower.pid, signal.SIGKILL)
            follower.wait(timeout=30)
        killed_while_writing += bool(saved_temporaries(home) - before)  # left behind: killed mid-write

        path = index_path(home)
        loaded = load_searcher(path, SEARCH)  # loads: never a torn file
        manifest = read_manifest(path)
        if manifest.sequence:
            texts, fingerprint = states[manifest.sequence]
            assert manifest.catalog_fingerprint in (fingerprint, f"unconfirmed: sequence {manifest.sequence}")
        else:  # saved by a build or by a load that brought the index up to date: some state of the catalog
            assert loaded.texts in [built[0], *(texts for texts, _ in states.values())]
            texts = loaded.texts
        assert loaded.texts == texts
        assert loaded.parts.tokens is not None and set(loaded.parts.tokens.codes_) == set(texts)
        assert set(loaded.parts.passages.identifiers) == set(texts)
        assert loaded.parts.sentences is not None and set(loaded.parts.sentences.by_course) == set(texts)
        assert loaded.search("noting and drafting", 3)
        print(json.dumps({"round": round_, "sequence": manifest.sequence, "courses": len(texts)}))
    assert killed_while_writing >= 1, "no kill landed inside a save: the test did not test what it says"
