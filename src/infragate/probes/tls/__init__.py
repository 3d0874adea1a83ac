"""TLS: the standard-library scan (versions, suites, certificate, HSTS, redirect), Mozilla's profiles
as data, and sslyze's deep scan run out of process."""
