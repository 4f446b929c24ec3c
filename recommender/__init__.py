"""recommender"""

# Competency-gap recommendations (issue 4): gaps -> candidates -> ranking with reasons -> paths and batch runs.
from recommender.batch import BatchError, BatchReport, read_learners_jsonl, run_batch
from recommender.candidates import CourseMatcher, CoverageTable, EvidenceConfig, competency_query, encoder_matcher
from recommender.explain import Explanation, GapEvidence, Signal
from recommender.gaps import Gap, GapAnalysis, GapPriority, ProfileError, analyse_gaps, inline_learner
from recommender.inputs import CatalogInputs, load_inputs
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
    "CoverageTable",
    "EvidenceConfig",
    "Explanation",
    "Gap",
    "GapAnalysis",
    "GapEvidence",
    "GapPriority",
    "LearningPath",
    "PathStep",
    "ProfileError",
    "RankingConfig",
    "Recommendation",
    "Recommendations",
    "Recommender",
    "RetrievalConfig",
    "RoleFreeConfig",
    "SearchFilters",
    "Signal",
    "analyse_gaps",
    "build_course_index",
    "build_searcher",
    "competency_query",
    "detect_language",
    "encoder_matcher",
    "inline_learner",
    "learning_path",
    "load_inputs",
    "open_course_searcher",
    "read_learners_jsonl",
    "run_batch",
]
