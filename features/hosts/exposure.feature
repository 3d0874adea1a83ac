@exposure
Feature: Only what is declared answers from outside
  A client that is really outside (a network namespace of the run's own, joined to this machine by a
  veth pair that the run makes and removes) tries every scanned port of the machine's end of the
  link. A database or cache behind the gateway must not answer there, nor a debug port left open.

  Scenario: No port answers from outside that is not declared exposed
    Given a client outside this machine has tried every scanned port
    Then no port answers that is not declared exposed
