"""TLS: the standard-library ``scan`` (versions, suites, certificates), ``key_exchange`` (TLS 1.3
suites and key-exchange groups, each offered alone by ``openssl s_client``), ``https_policy`` (HSTS
and the redirect of plain HTTP), Mozilla's profiles as data (``mozilla`` and its JSON), and
sslyze's deep scan run out of process (``sslyze``)."""
