package main

import (
	"os"
	"testing"
)

// cliEnv makes the test binary act as the ferry command, so that tests
// which need a real process (a shell's completion, a terminal) run the code
// under test without building bin/ferry.
const cliEnv = "FERRY_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}
