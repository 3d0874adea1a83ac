"""infragate's own container image, built here without a registry (``build``), and
``python -m infragate.image`` to build it and load it into the Docker Engine."""
