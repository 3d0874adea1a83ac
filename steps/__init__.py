"""infragate's step library: thin step definitions that parse, call the library and assert.

Installed as ``infragate.steps`` and registered by the pytest plugin, so features in any
repository can use these steps.
"""
