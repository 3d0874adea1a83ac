"""Reference deployments infragate can bring up on this machine, and their known-bad variants.

``local/`` runs every part as a real program under supervisord; ``swarm/`` deploys the Swarm
reference stack on the local Docker Engine; ``variants/`` holds the defects, one module per
capability. Shared by the runtimes: ``host`` (the sandbox root, ports, locks, process liveness),
``docker_engine``, ``spec`` (what the deployments look like), ``pki``, ``binaries``, and the
programs they run (``backend``, ``backup_job``); ``haproxy`` puts a real HAProxy with
sliding-window limits in front of a backend (the HAProxy tests and the rate-limit benchmark).
"""
