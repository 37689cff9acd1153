"""EchoStats: self-hosted Spotify listening statistics."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("echostats")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
