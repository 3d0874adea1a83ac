"""Running infragate's commands: ``verify`` brings up a reference deployment when no target is
given, runs the suite in a pytest child (its own session, ended when verify dies), undoes what the
child left, scrubs the run folder and prints the summary; ``commands`` holds the others (an ad hoc
load run, recovery from a killed run's journal, profile checks, the sandbox commands);
``features`` lists the scenarios with their tags and what they need."""
