"""Running the conformance suite: ``verify`` brings up a reference deployment when no target is
given, runs the suite in a pytest child (its own session, ended when verify dies), undoes what the
child left, scrubs the run folder and prints the summary."""
