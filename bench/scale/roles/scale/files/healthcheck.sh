#!/bin/sh
# Answers 0 when the application's configuration is present.
test -r "$(dirname "$0")/../etc/app.conf"
