# PodPull pod helper: a stdlib-only package (Python >= 3.8, Linux) that runs on a
# GPU pod, built into one zipapp (scripts/build-helper.mjs) and run as
# `python3 -I -S helper-<hash>.pyz <command>`, with ONE JSON request on stdin; it
# answers one JSON line on stdout. See docs/formats.md ("Helper protocol",
# "Status file", "Lock", "Partial files") for the formats it shares with the
# TypeScript engine: either engine can resume the other's .part.
#
# Nothing but the command word is ever taken from argv, and tokens live only in
# memory: they are never written to argv, the environment of a new program, a
# file, a log or the status file.
#
# Each module names its TypeScript counterpart at the top (keep the two in step;
# one conformance table, test/conformance/, runs against both). The version is
# what the probe reports and the About box shows; the file name on the pod is
# the build's content hash.

HELPER_VERSION = "0.1.0"
