@gateway
Feature: Robustness against odd requests
  Odd paths, methods, headers, origins and bodies are refused cleanly: never a server error, never
  a glimpse of the software or the code behind the gateway, never an unknown origin let in.

  Scenario: Odd requests never break the gateway or leak internals
    When a client sends a bounded series of odd requests
    Then no odd request causes a server error
    And no answer to an odd request discloses a software version or a stack trace
    And no odd request from an origin outside the allowlist is let in
