"""CometAPI's Replicate-compatible prediction API: the client, the snapshot and typed errors.

No Discord here; the scheduler and the CLI both use this package.
"""

from bot.cometapi.client import ClientTuning, PredictionClient
from bot.cometapi.download import DownloadedImage
from bot.cometapi.errors import (
    AccessDeniedError,
    AuthenticationError,
    CometAPIError,
    DownloadError,
    InsufficientCreditError,
    InvalidInputError,
    ModelUnavailableError,
    NetworkError,
    PredictionNotFoundError,
    ProviderError,
    RateLimitedError,
    UnexpectedResponseError,
)
from bot.cometapi.prediction import TERMINAL_STATUSES, Prediction, PredictionStatus
from bot.cometapi.progress import mentions_safety_filter, parse_progress, parse_seed

__all__ = [
    "TERMINAL_STATUSES",
    "AccessDeniedError",
    "AuthenticationError",
    "ClientTuning",
    "CometAPIError",
    "DownloadError",
    "DownloadedImage",
    "InsufficientCreditError",
    "InvalidInputError",
    "ModelUnavailableError",
    "NetworkError",
    "Prediction",
    "PredictionClient",
    "PredictionNotFoundError",
    "PredictionStatus",
    "ProviderError",
    "RateLimitedError",
    "UnexpectedResponseError",
    "mentions_safety_filter",
    "parse_progress",
    "parse_seed",
]
