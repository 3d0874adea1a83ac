"""The conformance suite: the pytest module that binds feature files to scenarios, and its settings."""

from __future__ import annotations

import os
from pathlib import Path

BUILTIN_FEATURES = Path(__file__).resolve().parent.parent / "features"
SUITE_MODULE = Path(__file__).resolve().parent / "test_conformance.py"
SUITE_INI = Path(__file__).resolve().parent / "pytest.ini"
FEATURES_ENV = "INFRAGATE_FEATURES"


def feature_paths() -> list[str]:
    """Feature files or folders to run: $INFRAGATE_FEATURES (os.pathsep-separated) or the built-in ones."""
    configured = os.environ.get(FEATURES_ENV)
    if configured:
        return [str(Path(path).resolve()) for path in configured.split(os.pathsep) if path]
    return [str(BUILTIN_FEATURES)]
