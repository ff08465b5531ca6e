package proxy

// FlightWindow exports flightWindow to the tests of package proxy_test.
const FlightWindow = flightWindow
