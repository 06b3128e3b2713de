#!/usr/bin/env python3
# The smallest Python worker: {a, b} -> a + b.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from childproc_pool import serve  # noqa: E402

serve(lambda req: req["a"] + req["b"])
