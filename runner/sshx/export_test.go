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
