package proxy

import "github.com/edgefront/edgefront/collapse"

// FlightWindow is collapse.Window, for the tests of package proxy_test.
const FlightWindow = collapse.Window
