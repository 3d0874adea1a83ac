"""Recovery: the on-disk journal every disruption is written to before it happens, and the undo of
each journalled action, verified by observing the target."""
