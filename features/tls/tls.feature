@tls
Feature: TLS at the gateway
  Every TLS endpoint accepts only the declared protocol versions and cipher suites, presents a
  trusted certificate for its name that is not about to expire, tells browsers to stay on HTTPS,
  and sends plain-HTTP clients there.

  Scenario: Only the declared TLS versions are accepted
    When a client tries each TLS version on its own against every TLS endpoint
    Then only the declared TLS versions are accepted

  Scenario: No cipher suite outside the declared Mozilla profile is accepted
    When a client tries each TLS version on its own against every TLS endpoint
    Then no cipher suite outside the declared Mozilla profile is accepted

  Scenario: Key exchange stays within the declared Mozilla profile
    When a client offers each TLS 1.3 suite and each key-exchange group on its own to every TLS endpoint
    Then no TLS 1.3 suite or key-exchange group outside the declared Mozilla profile is accepted

  Scenario: Certificates are trusted, match their name and are not about to expire
    When a client inspects the certificate of every TLS endpoint
    Then every certificate chain verifies against the declared trust anchors
    And every certificate matches the name clients ask for
    And every certificate stays valid for at least the declared number of days

  Scenario: Browsers are told to stay on HTTPS
    When a client fetches the health endpoint over TLS
    Then Strict-Transport-Security is sent with at least the declared max-age

  Scenario: Plain HTTP is redirected to HTTPS
    When a client asks for a page over plain HTTP
    Then it is redirected permanently to the same page over HTTPS

  @deepscan
  Scenario: A deep scan finds the TLS configuration meets the declared Mozilla profile
    When sslyze scans every TLS endpoint
    Then every endpoint meets the declared Mozilla profile
