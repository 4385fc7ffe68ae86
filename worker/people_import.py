"""rq jobs of the insured-people import: check a large file, then write it (app/people/imports.py)."""

from __future__ import annotations

import logging

from rq import get_current_job

from worker.context import job_app_context

log = logging.getLogger(__name__)


def _job_id() -> str:
    job = get_current_job()
    return job.id if job else "-"


def validate(import_id: int) -> None:
    """Read the whole uploaded file and check every row; the import then waits for a commit."""
    from app.people import imports

    with job_app_context():
        log.info("job %s: checking person import %s", _job_id(), import_id)
        imports.run_validation(import_id)


def commit(import_id: int) -> None:
    """Write the checked rows in chunks, updating the import's progress as each chunk commits."""
    from app.people import imports

    with job_app_context():
        log.info("job %s: writing person import %s", _job_id(), import_id)
        imports.run_commit(import_id, chunked=True)
