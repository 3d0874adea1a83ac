"""The pytest plugin that runs features as conformance checks.

``hooks`` is the plugin pytest loads (options, tags, the run's journal lock, undo of leftovers,
reports at the end); ``fixtures`` gives steps the target (profile, consent, platform, gateway,
journal, background, evidence); ``recording`` records each scenario's steps and classifies its
verdict. Steps written by teams import ``infragate.bdd``, not these.
"""
