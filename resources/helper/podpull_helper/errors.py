# Failures the user can act on, and the two signals a transfer stops with.
# TypeScript: src/main/errors.ts, engine/types.ts, engine/segmentFetcher.ts (RestartNeeded).

class HelperError(Exception):
    """A failure the user can act on: one sentence plus a code from formats.md."""

    def __init__(self, code, message, retry=False, retry_after=None, status=None, host=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.retry = retry
        self.retry_after = retry_after  # seconds the server asked for
        self.status = status  # the HTTP status that refused, when one did
        self.host = host
        self.pause = False  # stop resumable (paused), not failed: a wait past the cap


class RestartNeeded(Exception):
    """The server's copy changed (200 to a range, new validator): never splice."""


class Stopped(Exception):
    pass
