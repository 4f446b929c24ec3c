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

__all__ = [
    "BatchError",
    "BatchReport",
    "CatalogInputs",
    "CourseMatcher",
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
    "RoleFreeConfig",
    "Signal",
    "analyse_gaps",
    "competency_query",
    "encoder_matcher",
    "inline_learner",
    "learning_path",
    "load_inputs",
    "read_learners_jsonl",
    "run_batch",
]
