"""Hosts and containers seen from inside, through testinfra: files, listening sockets, configuration
tests (inventory), and what they must hold (judgements)."""
