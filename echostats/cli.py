"""Command line: ``echostats serve`` (and more subcommands as the service grows).

Configuration errors end the process with one line naming the setting, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence
from types import FrameType

import anyio
import uvicorn

from echostats import __version__
from echostats.app import create_app
from echostats.demo import DEMO_SEED, demo_environment, demo_simulator
from echostats.errors import ConfigError, StoreError
from echostats.logs import configure_logging
from echostats.settings import Settings, load_settings
from echostats.simulator.server import serve as serve_simulator
from echostats.store import open_store

log = logging.getLogger("echostats")

EXIT_CONFIG = 2
EXIT_STORE = 3
EXIT_STARTUP = 4


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="echostats", description=__doc__)
    parser.add_argument("--version", action="version", version=f"echostats {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="run the service (embedded store unless a URL is set)"
    )
    serve.add_argument("--host", help="override ECHOSTATS_HOST")
    serve.add_argument("--port", type=int, help="override ECHOSTATS_PORT")
    demo = commands.add_parser("demo", help="run a demo installation (data under DATA_DIR/demo)")
    demo.add_argument("--host", help="override ECHOSTATS_HOST")
    demo.add_argument("--port", type=int, help="override ECHOSTATS_PORT")
    simulator = commands.add_parser(
        "simulator", help="run the Spotify simulator alone as an HTTP server"
    )
    simulator.add_argument("--host", default="127.0.0.1")
    simulator.add_argument("--port", type=int, default=8990)
    simulator.add_argument("--seed", type=int, default=DEMO_SEED)
    return parser


class _Server(uvicorn.Server):
    """uvicorn re-raises the stop signal after a graceful shutdown, so the process would end
    "killed by SIGTERM"; a requested stop that shut down cleanly should exit with status 0."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


async def _serve_demo(settings: Settings) -> None:
    async with demo_environment(settings) as (wired, _sim):
        await _serve(wired)


async def _serve_simulator(host: str, port: int, seed: int) -> None:
    sim = demo_simulator(seed)

    def announce(bound: int) -> None:
        print(
            f"Spotify simulator on http://{host}:{bound}  "
            f"(accounts: /authorize, /api/token; Web API: /v1; client id {sim.config.client_id})",
            file=sys.stderr,
        )

    await serve_simulator(sim, host, port, ready=announce)


async def _serve(settings: Settings) -> None:
    # The store is opened here rather than in the app lifespan so that a store that cannot start
    # ends the process with our one-line message; uvicorn would log a lifespan traceback instead.
    async with open_store(settings) as store:
        config = uvicorn.Config(
            create_app(settings, store=store),
            host=settings.host,
            port=settings.port,
            log_config=None,
            proxy_headers=False,  # trusted proxies are handled by the app, never blindly
            timeout_graceful_shutdown=10,
        )
        server = _Server(config)
        await server.serve()
    if not server.started:
        raise SystemExit(EXIT_STARTUP)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "simulator":
        configure_logging("INFO", "text")
        with contextlib.suppress(KeyboardInterrupt):
            anyio.run(_serve_simulator, args.host, args.port, args.seed)
        return 0
    overrides = {k: v for k in ("host", "port") if (v := getattr(args, k, None)) is not None}
    try:
        settings = load_settings(**overrides)
    except ConfigError as exc:
        print(f"echostats: {exc.detail}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "demo":
        # Demo data lives apart from a real installation's, so trying the demo never mixes in.
        settings = settings.model_copy(
            update={"demo_mode": True, "data_dir": settings.data_dir / "demo"}
        )
    configure_logging(settings.log_level, settings.log_format)
    if args.command in {"serve", "demo"}:
        print(
            f"EchoStats {__version__}{' (demo)' if settings.demo_mode else ''}: "
            f"dashboard {settings.base_url}/  API docs {settings.base_url}/api/docs",
            file=sys.stderr,
        )
        try:
            anyio.run(_serve_demo if args.command == "demo" else _serve, settings)
        except StoreError as exc:
            print(f"echostats: {exc.detail}", file=sys.stderr)
            return EXIT_STORE
        except KeyboardInterrupt:
            return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
