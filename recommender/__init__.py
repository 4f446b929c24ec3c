"""recommender"""

# Competency-gap recommendations (issue 4): gaps -> candidates -> ranking with reasons -> paths and batch runs;
# catalog insights and the Ray batch engine (issue 7).
from recommender.batch import BatchError, BatchReport, read_learners_jsonl, run_batch
from recommender.batch_ray import run_batch_on_ray
from recommender.candidates import CourseMatcher, CoverageTable, EvidenceConfig, competency_query, encoder_matcher
from recommender.explain import Explanation, GapEvidence, Signal
from recommender.gaps import Gap, GapAnalysis, GapPriority, ProfileError, analyse_gaps, inline_learner
from recommender.inputs import CatalogInputs, load_inputs
from recommender.insights import (
    CoverageMatrix,
    PriorityCourse,
    RoleReadiness,
    TranslationPriorities,
    coverage_matrix,
    role_readiness,
    translation_priorities,
)
from recommender.paths import LearningPath, PathStep, learning_path
from recommender.ranking import RankingConfig
from recommender.recommend import Recommendation, Recommendations, Recommender, RoleFreeConfig
from recommender.retrieval import CourseSearcher, RetrievalConfig, SearchFilters, build_searcher, detect_language
from recommender.retrieval_catalog import build_course_index, open_course_searcher

__all__ = [
    "BatchError",
    "BatchReport",
    "CatalogInputs",
    "CourseMatcher",
    "CourseSearcher",
    "CoverageMatrix",
    "CoverageTable",
    "EvidenceConfig",
    "Explanation",
    "Gap",
    "GapAnalysis",
    "GapEvidence",
    "GapPriority",
    "LearningPath",
    "PathStep",
    "PriorityCourse",
    "ProfileError",
    "RankingConfig",
    "Recommendation",
    "Recommendations",
    "Recommender",
    "RetrievalConfig",
    "RoleFreeConfig",
    "RoleReadiness",
    "SearchFilters",
    "Signal",
    "TranslationPriorities",
    "analyse_gaps",
    "build_course_index",
    "build_searcher",
    "competency_query",
    "coverage_matrix",
    "detect_language",
    "encoder_matcher",
    "inline_learner",
    "learning_path",
    "load_inputs",
    "open_course_searcher",
    "read_learners_jsonl",
    "role_readiness",
    "run_batch",
    "run_batch_on_ray",
    "translation_priorities",
]
