"""A run as one JSON document for pipelines (`verify --format json` prints it to stdout): the
verdict and exit code, the counts, each scenario's verdict with where it failed and why, waivers,
and where the reports are. Every secret is scrubbed, as in every report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infragate.profile.secrets import REDACTOR
from infragate.reports.records import RunRecord
from infragate.verdicts import RUN_VERDICT

SCHEMA = "infragate.run/v1"


def run_document(run: RunRecord | None, code: int, run_dir: Path | None = None, error: str = "") -> str:
    """The run (or the error that stopped it before it ran) as JSON text."""
    document: dict[str, Any] = {"schema": SCHEMA, "verdict": RUN_VERDICT[code], "exit_code": code}
    if error:
        document["error"] = error
    if run is not None:
        document.update(
            target=run.target,
            profile=run.profile,
            started_at=run.started_at,
            duration_s=round(run.finished_at - run.started_at, 3),
            counts=dict(sorted(run.counts().items())),
            scenarios=[
                {
                    "feature": scenario.feature,
                    "scenario": scenario.scenario,
                    "file": scenario.feature_file,
                    "line": scenario.line,
                    "tags": scenario.tags,
                    "verdict": scenario.verdict.value,
                    "failed_step": scenario.failed_step,
                    "message": scenario.message,
                    "duration_s": round(scenario.duration_s, 3),
                    **({"waiver": scenario.waiver} if scenario.waiver else {}),
                }
                for scenario in run.scenarios
            ],
            collection_errors=run.collection_errors,
            notes=run.notes,
            unmatched_waivers=run.unmatched_waivers,
        )
    if run_dir is not None:
        document["reports"] = str(run_dir)
    return REDACTOR.redact(json.dumps(document, indent=2))
