@gateway
Feature: Compression and WebSockets
  Text answers are compressed for clients that accept it, and real-time clients can hold a
  WebSocket open through the gateway.

  Scenario: Text responses are compressed for clients that accept it
    When a client that accepts compression fetches a text response
    Then the response is compressed with the declared encoding

  Scenario: A WebSocket through the gateway opens and echoes
    When a client opens a WebSocket through the gateway and sends a message
    Then the connection is upgraded
    And the message comes back unchanged
