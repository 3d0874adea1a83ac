@hosts
Feature: Hosts hold what the deployment's security promises
  Each declared host or container is read from inside through testinfra: its services run as the
  users the design gives them (root only where declared), its keys and secrets are not readable by
  others, its services listen only on the addresses the design allows (a database behind the
  gateway listens on no public address), its configuration would load again, its security-relevant
  packages carry the fixes the design counts on, and its kernel settings are the hardened ones.

  Background:
    Given every declared host is read through testinfra

  Scenario: No service runs as a user it was not given, root least of all
    Then every declared service runs only as its declared users

  Scenario: Keys and secrets are readable only by their owner
    Then every declared file is no more open than its mode and owned as declared

  Scenario: No copy of a secret lies where others can read it
    Then no file others may read in the declared folders holds a secret of the profile

  Scenario: Services listen only where declared
    Then every declared port listens on its declared addresses and on no other

  Scenario: The configuration on disk is valid
    Then every declared configuration test succeeds

  Scenario: Security-relevant packages are at least their declared versions
    Then every declared package is installed at its declared version or above

  Scenario: Kernel settings are the declared ones
    Then every declared kernel setting has its declared value
