"""Probes: each observes one thing about the live deployment and returns a frozen result with its
evidence and its judgement; a probe that cannot do its job raises ProbeError ("could not verify").

Families with several modules have a folder (``backup/``, ``ratelimit/``, ``tls/``); the rest are
one module each: ``health``, ``headers``, ``cors``, ``fuzz``, ``websocket``, ``replicas``,
``spread``, ``disruption`` (kill, scale, rolling restart under traffic), ``orchestrator`` (Swarm
services' declared configuration, failed updates), ``load``; ``http`` and ``traffic`` are the
clients they share, ``survey`` runs one probe over several targets.
"""
