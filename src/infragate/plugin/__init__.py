"""The pytest plugin that runs features as conformance checks.

``hooks`` is the plugin pytest loads (options, fixtures, tags, the run's journal lock, undo of
leftovers, reports at the end); ``recording`` records each scenario's steps and classifies its
verdict. Steps written by teams import ``infragate.bdd``, not these.
"""
