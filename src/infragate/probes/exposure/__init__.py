"""The attack surface seen from outside: a network namespace of the run's own, linked to this machine
by a veth pair (journalled, removed and verified gone), from which every scanned port is tried."""
