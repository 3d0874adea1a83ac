"""Waivers: known deviations, each with a reason, an owner and an expiry date, that do not fail the
gate while they last and never go unseen (``waiver_file`` reads and validates a waivers file, ``apply``
turns the findings they cover into WAIVED and names the waivers that matched nothing)."""
