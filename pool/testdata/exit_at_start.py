#!/usr/bin/env python3
# Fault: exits with status 3 before serving (after a line on stderr).
import sys

print("exit_at_start: leaving before serve", file=sys.stderr)
sys.exit(3)
