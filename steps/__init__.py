"""infragate's step library: thin step definitions that parse, call the library and assert.

Installed as ``infragate.steps`` and registered by the pytest plugin, so features in any
repository can use these steps. A step that needs more of the profile than its scenario's tags
say names it with ``bdd.needs``; ``infragate features`` lists it.
"""

MODULES = (
    "infragate.steps.gateway",
    "infragate.steps.platform",
    "infragate.steps.ratelimit",
    "infragate.steps.tls",
    "infragate.steps.resilience",
    "infragate.steps.backup",
    "infragate.steps.load",
    "infragate.steps.service_config",
    "infragate.steps.kubernetes_config",
    "infragate.steps.autoscaling",
    "infragate.steps.monitoring",
    "infragate.steps.hosts",
)
