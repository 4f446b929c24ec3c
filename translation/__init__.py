"""Translation of course metadata into Indian languages: engines, glossary, memory, QA checks and review.

The model engines live in `translation.seq2seq` (transformers) and `translation.ct2` (CTranslate2); they are
imported only when a model is loaded, so that commands without one start fast."""

from translation.bulk import (
    BatchReport,
    Preview,
    Selection,
    UndoReport,
    UnknownBatchError,
    apply_bulk,
    bulk_approve_clean,
    get_batch,
    preview_bulk,
    select_units,
    undo_batch,
)
from translation.checks import CHECKS, Check, Flag, run_checks
from translation.config import TranslationSettings, configured_engine, load_engine
from translation.demo import demo_translations
from translation.engines import Engine, MemoryEngine
from translation.errors import (
    ApprovalBlockedError,
    EngineConfigError,
    GlossaryError,
    IllegalTransitionError,
    ModelFetchError,
    UnknownUnitError,
)
from translation.exchange import ImportReport, export_memory, export_units, import_memory, import_units
from translation.glossary import Glossary, Term, catalog_glossary, load_glossary, transliterate
from translation.jobs import FIELDS, JobReport, run_translation_job
from translation.languages import (
    IGOT_PORTAL_LANGUAGES,
    TRANSLATION_LANGUAGES,
    TranslationLanguage,
    translation_language,
)
from translation.memory import MemoryMatch, TranslationMemory
from translation.pipeline import Draft, TranslationPipeline
from translation.review import (
    Action,
    DraftSource,
    UnitView,
    allowed_actions,
    approve_unit,
    edit_unit,
    get_unit,
    list_units,
    reject_unit,
)
from translation.store import load_memory, memory_matches, seed_memory

__all__ = [
    "CHECKS",
    "FIELDS",
    "IGOT_PORTAL_LANGUAGES",
    "TRANSLATION_LANGUAGES",
    "Action",
    "ApprovalBlockedError",
    "BatchReport",
    "Check",
    "Draft",
    "DraftSource",
    "Engine",
    "EngineConfigError",
    "Flag",
    "Glossary",
    "GlossaryError",
    "IllegalTransitionError",
    "ImportReport",
    "JobReport",
    "MemoryEngine",
    "MemoryMatch",
    "ModelFetchError",
    "Preview",
    "Selection",
    "Term",
    "TranslationLanguage",
    "TranslationMemory",
    "TranslationPipeline",
    "TranslationSettings",
    "UndoReport",
    "UnitView",
    "UnknownBatchError",
    "UnknownUnitError",
    "allowed_actions",
    "apply_bulk",
    "approve_unit",
    "bulk_approve_clean",
    "catalog_glossary",
    "configured_engine",
    "demo_translations",
    "edit_unit",
    "export_memory",
    "export_units",
    "get_batch",
    "get_unit",
    "import_memory",
    "import_units",
    "list_units",
    "load_engine",
    "load_glossary",
    "load_memory",
    "memory_matches",
    "preview_bulk",
    "reject_unit",
    "run_checks",
    "run_translation_job",
    "seed_memory",
    "select_units",
    "translation_language",
    "transliterate",
    "undo_batch",
]
