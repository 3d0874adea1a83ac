"""Known-bad variants of the gateway's TLS: protocol versions, ciphers, certificates, HSTS, redirects."""

from __future__ import annotations

from infragate.sandbox.variants.scenarios import CERTS, CIPHERS, DEEP, HSTS, KEY_EXCHANGE, REDIRECT, VERSIONS
from infragate.sandbox.variants.variant import ExpectedFailure, LocalDefect, Variant, replace_fields

# What the own key-exchange scan finds, sslyze's Mozilla check finds too.
KEY_EXCHANGE_BREAKS = (
    ExpectedFailure(
        KEY_EXCHANGE, "Then no TLS 1.3 suite or key-exchange group outside the declared Mozilla profile is accepted"
    ),
    ExpectedFailure(DEEP, "Then every endpoint meets the declared Mozilla profile"),
)

VARIANTS: tuple[Variant, ...] = (
    Variant(
        name="tls10-enabled",
        summary="the gateway also accepts TLS 1.0 and 1.1, with a CBC suite they can use",
        breaks=(
            ExpectedFailure(VERSIONS, "Then only the declared TLS versions are accepted"),
            ExpectedFailure(CIPHERS, "Then no cipher suite outside the declared Mozilla profile is accepted"),
            ExpectedFailure(DEEP, "Then every endpoint meets the declared Mozilla profile"),
        ),
        # OpenSSL enables only a contiguous range of versions, so 1.0 comes back together with 1.1.
        defect=LocalDefect(
            replace_fields(
                tls_protocols=("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"), tls_extra_ciphers=("ECDHE-ECDSA-AES128-SHA",)
            )
        ),
    ),
    Variant(
        name="tls11-enabled",
        summary="the gateway also accepts TLS 1.1, with a CBC suite it can use",
        breaks=(
            ExpectedFailure(VERSIONS, "Then only the declared TLS versions are accepted"),
            ExpectedFailure(CIPHERS, "Then no cipher suite outside the declared Mozilla profile is accepted"),
            ExpectedFailure(DEEP, "Then every endpoint meets the declared Mozilla profile"),
        ),
        defect=LocalDefect(
            replace_fields(
                tls_protocols=("TLSv1.1", "TLSv1.2", "TLSv1.3"), tls_extra_ciphers=("ECDHE-ECDSA-AES128-SHA",)
            )
        ),
    ),
    Variant(
        name="tls-weak-cipher",
        summary="TLS 1.2 also offers ECDHE-ECDSA-AES128-SHA (CBC with SHA-1), outside Mozilla intermediate",
        breaks=(
            ExpectedFailure(CIPHERS, "Then no cipher suite outside the declared Mozilla profile is accepted"),
            ExpectedFailure(DEEP, "Then every endpoint meets the declared Mozilla profile"),
        ),
        defect=LocalDefect(replace_fields(tls_extra_ciphers=("ECDHE-ECDSA-AES128-SHA",))),
    ),
    Variant(
        name="tls-extra-groups",
        summary="the gateway leaves the key-exchange groups to OpenSSL, which adds X448, secp521r1 and ffdhe",
        breaks=KEY_EXCHANGE_BREAKS,
        defect=LocalDefect(replace_fields(tls_groups="")),
    ),
    Variant(
        name="tls13-ccm8-suite",
        summary="TLS 1.3 also offers TLS_AES_128_CCM_8_SHA256 (a short tag), outside Mozilla's profiles",
        breaks=KEY_EXCHANGE_BREAKS,
        defect=LocalDefect(
            replace_fields(
                tls13_suites="TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:"
                "TLS_AES_128_CCM_8_SHA256"
            )
        ),
    ),
    Variant(
        name="cert-unknown-ca",
        summary="the certificate is issued by a CA the clients do not trust",
        breaks=(
            ExpectedFailure(CERTS, "Then every certificate chain verifies against the declared trust anchors"),
            ExpectedFailure(DEEP, "Then every endpoint meets the declared Mozilla profile"),
        ),
        unverifiable=(HSTS,),
        defect=LocalDefect(replace_fields(certificate="unknown-ca")),
    ),
    Variant(
        name="cert-wrong-host",
        summary="the certificate names other.example.test, not the gateway's address",
        breaks=(
            ExpectedFailure(CERTS, "And every certificate matches the name clients ask for"),
            ExpectedFailure(DEEP, "Then every endpoint meets the declared Mozilla profile"),
        ),
        unverifiable=(HSTS,),
        defect=LocalDefect(replace_fields(certificate="wrong-host")),
    ),
    Variant(
        name="cert-expiring",
        summary="the certificate expires in 5 days (30 declared)",
        breaks=(ExpectedFailure(CERTS, "And every certificate stays valid for at least the declared number of days"),),
        defect=LocalDefect(replace_fields(certificate="expiring")),
    ),
    Variant(
        name="hsts-one-day",
        summary="Strict-Transport-Security max-age is one day",
        breaks=(ExpectedFailure(HSTS, "Then Strict-Transport-Security is sent with at least the declared max-age"),),
        defect=LocalDefect(replace_fields(hsts_max_age_s=86_400)),
    ),
    Variant(
        name="http-not-redirected",
        summary="plain HTTP is served instead of redirected to HTTPS",
        breaks=(ExpectedFailure(REDIRECT, "Then it is redirected permanently to the same page over HTTPS"),),
        defect=LocalDefect(replace_fields(http_redirect=False)),
    ),
)
