"""The model catalog and the mapping from slash options to a model's `input`.

The catalog is data (`models.json`, plus an operator's MODELS_FILE); validation reads it, so a
new model or a changed schema is a file edit. No Discord import here.
"""

from bot.catalog.catalog import Catalog, ModelDescription, OptionDescription
from bot.catalog.cli import CLI_POLICY, cli_input
from bot.catalog.errors import CatalogError, InputValidationError, Problem, UnknownModelError
from bot.catalog.extra import parse_extra
from bot.catalog.loader import load_catalog
from bot.catalog.mapping import (
    DEFAULT_POLICY,
    InputPolicy,
    build_input,
    edit_input,
)
from bot.catalog.price import PRICE_UNITS, Price
from bot.catalog.reuse import VariationStep, reuse_input
from bot.catalog.spec import (
    FIELD_TYPES,
    IMAGE_TYPES,
    MODEL_KINDS,
    SLASH_OPTIONS,
    FieldSpec,
    ModelSpec,
)
from bot.catalog.variation import VARIATION_LEVELS, Variation

__all__ = [
    "CLI_POLICY",
    "DEFAULT_POLICY",
    "FIELD_TYPES",
    "IMAGE_TYPES",
    "MODEL_KINDS",
    "PRICE_UNITS",
    "SLASH_OPTIONS",
    "VARIATION_LEVELS",
    "Catalog",
    "CatalogError",
    "FieldSpec",
    "InputPolicy",
    "InputValidationError",
    "ModelDescription",
    "ModelSpec",
    "OptionDescription",
    "Price",
    "Problem",
    "UnknownModelError",
    "Variation",
    "VariationStep",
    "build_input",
    "cli_input",
    "edit_input",
    "load_catalog",
    "parse_extra",
    "reuse_input",
]
