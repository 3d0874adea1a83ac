"""TLS: the standard-library ``scan`` (versions, suites, certificates), ``https_policy`` (HSTS and
the redirect of plain HTTP), Mozilla's profiles as data (``mozilla`` and its JSON), and sslyze's
deep scan run out of process (``sslyze``)."""
