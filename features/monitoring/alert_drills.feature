@monitoring @destructive
Feature: Alert drills prove an outage is noticed
  Each declared drill stops a component on purpose (journalled first, started again after), and the
  alert meant for it must go pending, fire and reach its receiver within the declared time, then
  resolve once the component runs again.

  Scenario: Every drilled outage is notified in time and resolves
    When every declared alert drill stops its component and starts it again
    Then every drilled alert reached its receiver within the declared time
    And every drilled alert resolved once its component ran again
