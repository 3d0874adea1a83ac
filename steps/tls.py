"""Steps about TLS: versions, cipher suites, certificates, HSTS and the HTTP redirect."""

from __future__ import annotations

from pytest_bdd import then, when

from infragate.bdd import Evidence, expect_no_problems, needs, not_applicable
from infragate.errors import ProbeError
from infragate.probes.http import GatewayClient
from infragate.probes.survey import Survey
from infragate.probes.tls.https_policy import HstsResult, RedirectResult, probe_hsts, probe_redirect
from infragate.probes.tls.key_exchange import KeyExchangeScan, survey_key_exchange
from infragate.probes.tls.scan import (
    CertificateReport,
    ProtocolScan,
    survey_certificates,
    survey_protocols,
    tls_endpoints,
)
from infragate.probes.tls.sslyze import DeepScanResult, deep_scan, sslyze_executable
from infragate.profile import Profile
from infragate.profile.model import Tls


def _tls(profile: Profile) -> Tls:
    return profile.tls or not_applicable("the profile declares no tls section")


@when("a client tries each TLS version on its own against every TLS endpoint", target_fixture="protocols")
def _(profile: Profile, evidence: Evidence) -> Survey[ProtocolScan]:
    _tls(profile)
    return evidence.record(survey_protocols(profile))


@then("only the declared TLS versions are accepted")
def _(protocols: Survey[ProtocolScan], profile: Profile) -> None:
    expect_no_problems(protocols.check(lambda scan: scan.version_check(_tls(profile).versions)))


@then("no cipher suite outside the declared Mozilla profile is accepted")
def _(protocols: Survey[ProtocolScan], profile: Profile) -> None:
    expect_no_problems(protocols.check(lambda scan: scan.cipher_check(_tls(profile).mozilla_profile)))


@when(
    "a client offers each TLS 1.3 suite and each key-exchange group on its own to every TLS endpoint",
    target_fixture="key_exchange",
)
def _(profile: Profile, evidence: Evidence) -> Survey[KeyExchangeScan]:
    _tls(profile)
    return evidence.record(survey_key_exchange(profile))


@then("no TLS 1.3 suite or key-exchange group outside the declared Mozilla profile is accepted")
def _(key_exchange: Survey[KeyExchangeScan], profile: Profile) -> None:
    expect_no_problems(key_exchange.check(lambda scan: scan.check(_tls(profile).mozilla_profile)))


@when("a client inspects the certificate of every TLS endpoint", target_fixture="certificates")
def _(profile: Profile, evidence: Evidence) -> Survey[CertificateReport]:
    _tls(profile)
    return evidence.record(survey_certificates(profile))


@then("every certificate chain verifies against the declared trust anchors")
def _(certificates: Survey[CertificateReport]) -> None:
    expect_no_problems(certificates.check(CertificateReport.chain_check))


@then("every certificate matches the name clients ask for")
def _(certificates: Survey[CertificateReport]) -> None:
    expect_no_problems(certificates.check(CertificateReport.host_check))


@then("every certificate stays valid for at least the declared number of days")
def _(certificates: Survey[CertificateReport]) -> None:
    expect_no_problems(certificates.check(CertificateReport.expiry_check))


@when("a client fetches the health endpoint over TLS", target_fixture="hsts")
@needs("tls.hsts")
def _(gateway: GatewayClient, profile: Profile, evidence: Evidence) -> HstsResult:
    _tls(profile).hsts or not_applicable("the profile declares no tls.hsts policy")
    return evidence.record(probe_hsts(gateway))


@then("Strict-Transport-Security is sent with at least the declared max-age")
@needs("tls.hsts")
def _(hsts: HstsResult, profile: Profile) -> None:
    declared = _tls(profile).hsts or not_applicable("the profile declares no tls.hsts policy")
    expect_no_problems(hsts.check(declared.min_max_age, declared.include_subdomains))


@when("a client asks for a page over plain HTTP", target_fixture="redirect")
@needs("tls.http_redirect_from")
def _(gateway: GatewayClient, profile: Profile, evidence: Evidence) -> RedirectResult:
    http_url = _tls(profile).http_redirect_from or not_applicable("the profile declares no tls.http_redirect_from")
    return evidence.record(probe_redirect(gateway, http_url))


@then("it is redirected permanently to the same page over HTTPS")
def _(redirect: RedirectResult) -> None:
    expect_no_problems(redirect.check())


@when("sslyze scans every TLS endpoint", target_fixture="deep")
@needs("tls.deep_scan: true")
def _(profile: Profile, evidence: Evidence) -> Survey[DeepScanResult]:
    tls = _tls(profile)
    if not tls.deep_scan:
        not_applicable("tls.deep_scan is false in the profile")
    if sslyze_executable() is None:  # wanted and not there: the gate must not pass without it
        raise ProbeError(
            "the deep scan needs sslyze, which is not on the PATH (`uv tool install sslyze` installs it; "
            "INFRAGATE_SSLYZE names another; tls.deep_scan: false in the profile when the deep scan is not wanted)"
        )
    scans = (deep_scan(endpoint, tls.mozilla_profile, profile.gateway.ca_bundle) for endpoint in tls_endpoints(profile))
    return evidence.record(Survey(tuple(scans)))


@then("every endpoint meets the declared Mozilla profile")
def _(deep: Survey[DeepScanResult]) -> None:
    expect_no_problems(deep.check(DeepScanResult.check))
