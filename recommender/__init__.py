"""recommender"""

# Competency-gap recommendations: gaps -> candidates (tags, and text matches from `search`) -> ranking with
# reasons -> paths and batch runs; evaluation against baselines; catalog insights; the Ray batch engine.
from recommender.baselines import standard_rankers
from recommender.batch import BatchError, BatchReport, read_learners_jsonl, run_batch
from recommender.batch_ray import run_batch_on_ray
from recommender.candidates import CourseMatcher, CoverageTable, EvidenceConfig, competency_query
from recommender.evaluation import evaluate_recommender
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
from recommender.stored import StoredRecommender, load_recommender

__all__ = [
    "BatchError",
    "BatchReport",
    "CatalogInputs",
    "CourseMatcher",
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
    "RoleFreeConfig",
    "RoleReadiness",
    "Signal",
    "StoredRecommender",
    "TranslationPriorities",
    "analyse_gaps",
    "competency_query",
    "coverage_matrix",
    "evaluate_recommender",
    "inline_learner",
    "learning_path",
    "load_inputs",
    "load_recommender",
    "read_learners_jsonl",
    "role_readiness",
    "run_batch",
    "run_batch_on_ray",
    "standard_rankers",
    "translation_priorities",
]
