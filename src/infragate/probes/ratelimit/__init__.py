"""Rate limits: the estimator that turns admitted and rejected requests into a rate and a burst, and
the open-loop measurements (overload, recovery, client and route isolation) that feed it."""
