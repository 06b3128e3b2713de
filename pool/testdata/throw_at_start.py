#!/usr/bin/env python3
# Fault: raises while the script loads, before serve (python exits with status 1).
raise RuntimeError("throw_at_start: raised while loading")
