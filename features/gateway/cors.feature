@gateway
Feature: Cross-origin requests
  Browsers may read the API's answers from the allowlisted origins only.

  Scenario: Only allowlisted origins may call the API from a browser
    When browsers from allowlisted and unknown origins call the API
    Then every allowlisted origin is allowed
    And no unknown origin is allowed

  Scenario: Preflight requests from allowlisted origins are answered
    When a browser from an allowlisted origin sends a preflight request
    Then the preflight allows the declared methods and headers
