package cluster

// Crash stops n as a crash would: its member entry stays in the bucket
// until it expires, and its embedded NATS server goes away.
func (n *Node) Crash() { n.close(false) }
