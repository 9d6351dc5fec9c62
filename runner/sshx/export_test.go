package sshx

// ShellToken returns the token of the login user's persistent shell, or ""
// if none is running, so that tests can build a script that contains it.
func ShellToken(c *Client) string {
	c.shellMu.Lock()
	defer c.shellMu.Unlock()
	if sh := c.shells[0]; sh != nil {
		return sh.token
	}
	return ""
}

// SetSweepEvery makes one shell in n sweep the folders killed shells left,
// until the test ends.
func SetSweepEvery(t interface{ Cleanup(func()) }, n int) {
	old := sweepEvery
	sweepEvery = n
	t.Cleanup(func() { sweepEvery = old })
}
