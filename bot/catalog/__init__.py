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
from bot.catalog.reuse import reuse_input
from bot.catalog.spec import FIELD_TYPES, MODEL_KINDS, SLASH_OPTIONS, FieldSpec, ModelSpec

__all__ = [
    "CLI_POLICY",
    "DEFAULT_POLICY",
    "FIELD_TYPES",
    "MODEL_KINDS",
    "SLASH_OPTIONS",
    "Catalog",
    "CatalogError",
    "FieldSpec",
    "InputPolicy",
    "InputValidationError",
    "ModelDescription",
    "ModelSpec",
    "OptionDescription",
    "Problem",
    "UnknownModelError",
    "build_input",
    "cli_input",
    "edit_input",
    "load_catalog",
    "parse_extra",
    "reuse_input",
]
