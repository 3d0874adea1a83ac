"""Pure parts of the TLS probe: HSTS parsing, name matching, version and cipher verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from infragate.probes.tls.https_policy import parse_hsts
from infragate.probes.tls.scan import ProtocolScan, _matches


def test_hsts_max_age_and_subdomains() -> None:
    result = parse_hsts("https://x", "max-age=63072000; includeSubDomains; preload")
    assert (result.max_age_s, result.include_subdomains) == (63072000, True)
    assert result.check(15_552_000, True).met
    short = parse_hsts("https://x", "max-age=86400")
    assert short.check(15_552_000, False).problems == (
        "expected Strict-Transport-Security on https://x with max-age >= 15552000, observed 'max-age=86400'",
    )
    assert not parse_hsts("https://x", None).check(1, False).met
    assert not parse_hsts("https://x", "max-age=63072000").check(1, True).met  # includeSubDomains missing


def test_names_match_as_rfc_6125_says() -> None:
    assert _matches("127.0.0.1", ["127.0.0.1", "localhost"])
    assert not _matches("127.0.0.2", ["127.0.0.1"])
    assert _matches("api.example.test", ["*.example.test"])
    assert not _matches("a.b.example.test", ["*.example.test"])
    assert not _matches("example.test", ["*.example.test"])
    assert _matches("API.Example.Test", ["api.example.test"])


def test_version_and_cipher_verdicts() -> None:
    scan = ProtocolScan(
        "https://x",
        ("TLSv1", "TLSv1.2", "TLSv1.3"),
        ("TLSv1.1",),
        {"TLSv1": ("ECDHE-ECDSA-AES128-SHA",), "TLSv1.2": ("ECDHE-ECDSA-AES128-GCM-SHA256",)},
        "TLS_AES_128_GCM_SHA256",
    )
    versions = scan.version_check(("TLSv1.2", "TLSv1.3"))
    assert versions.problems == ("expected https://x to accept only TLSv1.2, TLSv1.3, observed it also accepts TLSv1",)
    assert versions.observed == "https://x accepts TLSv1, TLSv1.2, TLSv1.3"
    assert scan.cipher_check("intermediate").problems == (
        "expected only Mozilla 'intermediate' cipher suites on https://x, observed also ECDHE-ECDSA-AES128-SHA (TLSv1)",
    )
    assert scan.cipher_check("old").met
    assert scan.cipher_check("old").observed == "2 suites, all within it"


def test_only_a_tls_answer_counts_as_a_refusal() -> None:
    import ssl

    from infragate.probes.tls.scan import refusal_seen

    def error(reason: str) -> ssl.SSLError:
        failure = ssl.SSLError(1, reason)
        failure.reason = reason
        return failure

    assert refusal_seen(error("TLSV1_ALERT_PROTOCOL_VERSION"))
    assert refusal_seen(error("SSLV3_ALERT_HANDSHAKE_FAILURE"))
    assert refusal_seen(error("NO_CIPHERS_AVAILABLE"))  # the suite does not exist in that version
    assert not refusal_seen(error("UNEXPECTED_EOF_WHILE_READING"))  # a close without an alert
    assert not refusal_seen(error("RECORD_LAYER_FAILURE"))


def test_key_exchange_outside_the_mozilla_profile_is_named() -> None:
    from infragate.probes.tls.key_exchange import KeyExchangeScan

    conformant = KeyExchangeScan(
        "https://gw:8443", "TLSv1.3", ("TLS_AES_128_GCM_SHA256",), ("X25519", "prime256v1", "secp384r1")
    )
    assert conformant.check("intermediate").met
    loose = KeyExchangeScan(
        "https://gw:8443", "TLSv1.3", ("TLS_AES_128_GCM_SHA256", "TLS_AES_128_CCM_8_SHA256"), ("X25519", "X448")
    )
    assert loose.check("modern").problems == (
        "expected only Mozilla 'modern' TLS 1.3 suites and key-exchange groups on https://gw:8443, observed also "
        "TLS_AES_128_CCM_8_SHA256, group X448 (TLSv1.3)",
    )


def test_openssl_s_client_answers_are_read_as_acceptance_refusal_or_no_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infragate.errors import ProbeError
    from infragate.probes.tls.key_exchange import _offered_alone
    from infragate.probes.tls.scan import Endpoint

    fake = tmp_path / "openssl"
    # What OpenSSL 3's client prints: a handshake, a refusal by alert, a refused connection.
    fake.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        '  *X448*) echo "40F7:error:0A000410:SSL routines::sslv3 alert handshake failure" >&2; exit 1;;\n'
        '  *ffdhe*) echo "connect:errno=111" >&2; exit 1;;\n'
        '  *) echo "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384"; exit 0;;\n'
        "esac\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    endpoint = Endpoint.from_url("https://127.0.0.1:8443")
    assert _offered_alone(endpoint, "-tls1_3", "-groups", "X25519") is True
    assert _offered_alone(endpoint, "-tls1_3", "-groups", "X448") is False
    with pytest.raises(ProbeError, match="gave no TLS answer to openssl s_client -tls1_3 -groups ffdhe2048"):
        _offered_alone(endpoint, "-tls1_3", "-groups", "ffdhe2048")
