"""Command line: ``echostats demo``, ``echostats serve`` and the maintenance commands.

Configuration errors end the process with one line naming the setting, never a traceback.
Maintenance commands (doctor, import, backup, restore, rotate-key) work on the demo
installation when asked (``--demo``) or when no real installation is configured and a demo one
exists, so they work after ``make demo`` with nothing copied by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TypeVar

import anyio
import uvicorn

from echostats import __version__
from echostats.app import create_app
from echostats.cli_import import import_paths
from echostats.cli_import import summary as import_summary
from echostats.demo import (
    DEMO_SECRETS_FILE,
    DEMO_SEED,
    demo_environment,
    demo_simulator,
    with_demo_secrets,
)
from echostats.doctor import Check, diagnose, exit_status
from echostats.errors import ConfigError, EchoStatsError, StoreError
from echostats.logs import configure_logging
from echostats.security.keys import new_key_entry, new_session_secret
from echostats.security.setup import session_signer, token_cipher
from echostats.settings import Settings, load_settings
from echostats.simulator.server import serve as serve_simulator
from echostats.store import open_store
from echostats.store.backup import BackupSummary, backup, restore
from echostats.store.sync_jobs import SyncJob
from echostats.store.tokens import EncryptedTokenStore
from echostats.store.users import Users

log = logging.getLogger("echostats")

T = TypeVar("T")

EXIT_CONFIG = 2
EXIT_STORE = 3
EXIT_STARTUP = 4
SIGN_IN_LINK_TTL = timedelta(days=7)


DESCRIPTION = (
    "EchoStats: self-hosted Spotify listening statistics. Try it with 'echostats demo' "
    "(a simulated Spotify, nothing to set up); run a real installation with 'echostats serve'. "
    "Settings come from ECHOSTATS_* environment variables or a .env file."
)
DEMO_HELP = (
    "use the demo installation (DATA_DIR/demo); the default when no real installation is "
    "configured and a demo one exists"
)
MAINTENANCE = ("doctor", "import", "backup", "restore", "rotate-key", "add-user", "sign-in-link")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="echostats", description=DESCRIPTION)
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
    commands.add_parser(
        "generate-secrets", help="print a fresh session secret and encryption key for .env"
    )
    rotate = commands.add_parser(
        "rotate-key",
        help="re-encrypt every stored token under the first ECHOSTATS_ENCRYPTION_KEYS key",
    )
    history = commands.add_parser(
        "import", help="import Spotify privacy-export files (.json or the whole .zip)"
    )
    history.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    history.add_argument("--user", help="user id (default: the only user)")
    history.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    add_user = commands.add_parser(
        "add-user",
        help="create a user without Spotify (they scrobble) and print their sign-in link",
    )
    add_user.add_argument("name", help="the name the dashboard shows")
    link = commands.add_parser(
        "sign-in-link", help="print a new single-use sign-in link for a user"
    )
    link.add_argument("user", metavar="USER_ID")
    doctor = commands.add_parser(
        "doctor",
        help="check configuration, database, Spotify credentials and tokens; say what to fix",
    )
    backup = commands.add_parser(
        "backup", help="write every collection to one file (gzip'd Extended JSON lines)"
    )
    backup.add_argument("path", type=Path, metavar="PATH")
    restore = commands.add_parser("restore", help="load a backup file into an empty database")
    restore.add_argument("path", type=Path, metavar="PATH")
    restore.add_argument(
        "--force", action="store_true", help="replace whatever the database already holds"
    )
    for command in (doctor, history, backup, restore, rotate, add_user, link):
        command.add_argument("--demo", action="store_true", help=DEMO_HELP)
    return parser


class _Server(uvicorn.Server):
    """uvicorn re-raises the stop signal after a graceful shutdown, so the process would end
    "killed by SIGTERM"; a requested stop that shut down cleanly should exit with status 0."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


async def _rotate_key(settings: Settings) -> tuple[int, int]:
    async with open_store(settings) as store:
        return await EncryptedTokenStore(store, token_cipher(settings)).rotate()


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


class CommandError(Exception):
    """Ends the command with one line on stderr and the given exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _demo_settings(settings: Settings) -> Settings:
    # Demo data lives apart from a real installation's, so the demo never mixes in.
    demo = settings.model_copy(update={"demo_mode": True, "data_dir": settings.data_dir / "demo"})
    return with_demo_secrets(demo)


def _demo_installation_only(settings: Settings) -> bool:
    """Nothing configures a real installation (no secrets, the embedded store), and a demo one
    exists: a maintenance command can only mean the demo."""
    unconfigured = not (
        settings.session_secret.get_secret_value()
        or settings.encryption_keys.get_secret_value()
        or settings.mongodb_url
    )
    return unconfigured and (settings.data_dir / "demo" / DEMO_SECRETS_FILE).exists()


def _installation(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings of the installation the command works on (see the module docstring)."""
    if args.command == "demo" or getattr(args, "demo", False):
        return _demo_settings(settings)
    if args.command in MAINTENANCE and _demo_installation_only(settings):
        print(
            f"echostats: no installation is configured here; using the demo installation in "
            f"{settings.data_dir / 'demo'}",
            file=sys.stderr,
        )
        return _demo_settings(settings)
    return settings


def _settings_for(args: argparse.Namespace) -> Settings:
    """Settings from the environment and flags, validated, secrets included."""
    overrides = {k: v for k in ("host", "port") if (v := getattr(args, k, None)) is not None}
    try:
        settings = _installation(load_settings(**overrides), args)
        token_cipher(settings)
        session_signer(settings)
    except ConfigError as exc:
        raise CommandError(exc.detail, EXIT_CONFIG) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _run(fn: Callable[[Settings], Awaitable[T]], settings: Settings) -> T:
    try:
        return anyio.run(fn, settings)
    except StoreError as exc:
        raise CommandError(exc.detail, EXIT_STORE) from None


def _cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings_for(args)
    mode = " (demo)" if settings.demo_mode else ""
    print(
        f"EchoStats {__version__}{mode}: dashboard {settings.base_url}/  "
        f"API docs {settings.base_url}/api/docs",
        file=sys.stderr,
    )
    with contextlib.suppress(KeyboardInterrupt):
        _run(_serve_demo if settings.demo_mode else _serve, settings)
    return 0


def _cmd_simulator(args: argparse.Namespace) -> int:
    configure_logging("INFO", "text")
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(_serve_simulator, args.host, args.port, args.seed)
    return 0


def _cmd_generate_secrets(args: argparse.Namespace) -> int:
    key_id = "k" + datetime.now(UTC).strftime("%Y%m%d")
    print(f"ECHOSTATS_SESSION_SECRET={new_session_secret()}")
    print(f"ECHOSTATS_ENCRYPTION_KEYS={new_key_entry(key_id)}")
    return 0


def _cmd_rotate_key(args: argparse.Namespace) -> int:
    settings = _settings_for(args)
    rotated, unreadable = _run(_rotate_key, settings)
    key_id = token_cipher(settings).primary_key_id
    print(f"re-encrypted the tokens of {rotated} user(s) under key {key_id}")
    if unreadable:
        raise CommandError(
            f"{unreadable} user(s)' tokens could not be decrypted with any configured key; "
            "they must sign in again",
            1,
        )
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    settings = _settings_for(args)

    async def run(active: Settings) -> SyncJob:
        return await import_paths(active, args.paths, args.user, args.dry_run)

    try:
        job = _run(run, settings)
    except EchoStatsError as exc:
        raise CommandError(exc.detail, 1) from None
    print(import_summary(job), file=sys.stderr)
    return 0 if job.status == "completed" else 1


async def _sign_in_link(users: Users, settings: Settings, user_id: str) -> str:
    secret = await users.issue_sign_in_link(user_id, datetime.now(UTC), SIGN_IN_LINK_TTL)
    if secret is None:
        raise CommandError(f"no user with id {user_id}", 1)
    return f"{settings.base_url}/api/v1/auth/link?token={secret}"


def _cmd_add_user(args: argparse.Namespace) -> int:
    settings = _settings_for(args)
    name = args.name.strip()
    if not name or len(name) > 100:
        raise CommandError("give the user a name of 1 to 100 characters", 1)

    async def run(active: Settings) -> tuple[str, str]:
        async with open_store(active) as store:
            users = Users(store)
            user = await users.create_local(name, datetime.now(UTC))
            return user.id, await _sign_in_link(users, active, user.id)

    user_id, url = _run(run, settings)
    print(f"created {name} (user id {user_id}); this link signs them in once, within 7 days:")
    print(url)
    return 0


def _cmd_sign_in_link(args: argparse.Namespace) -> int:
    settings = _settings_for(args)

    async def run(active: Settings) -> str:
        async with open_store(active) as store:
            return await _sign_in_link(Users(store), active, args.user)

    url = _run(run, settings)
    print("this link signs the user in once, within 7 days:")
    print(url)
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    try:
        settings = _installation(load_settings(), args)
    except ConfigError as exc:
        print(Check("configuration", "fail", exc.detail).line())
        return 1
    # The checks' own lines say everything; start-up chatter of the store would only add noise.
    configure_logging("ERROR", settings.log_format)
    checks = [Check("configuration", "ok", "every setting is valid"), *_run(diagnose, settings)]
    for check in checks:
        print(check.line())
    return exit_status(checks)


def _cmd_backup(args: argparse.Namespace) -> int:
    settings = _settings_for(args)

    async def run(active: Settings) -> BackupSummary:
        async with open_store(active) as store:
            return await backup(store, args.path)

    try:
        summary = _run(run, settings)
    except EchoStatsError as exc:
        raise CommandError(exc.detail, 1) from None
    print(
        f"backed up {summary.documents} document(s) of {len(summary.collections)} "
        f"collection(s) to {args.path}"
    )
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    settings = _settings_for(args)

    async def run(active: Settings) -> BackupSummary:
        async with open_store(active) as store:
            return await restore(store, args.path, force=args.force)

    try:
        summary = _run(run, settings)
    except EchoStatsError as exc:
        raise CommandError(exc.detail, 1) from None
    print(
        f"restored {summary.documents} document(s) of {len(summary.collections)} "
        f"collection(s) from {args.path}"
    )
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "add-user": _cmd_add_user,
    "sign-in-link": _cmd_sign_in_link,
    "backup": _cmd_backup,
    "doctor": _cmd_doctor,
    "restore": _cmd_restore,
    "import": _cmd_import,
    "serve": _cmd_serve,
    "demo": _cmd_serve,
    "simulator": _cmd_simulator,
    "generate-secrets": _cmd_generate_secrets,
    "rotate-key": _cmd_rotate_key,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CommandError as exc:
        print(f"echostats: {exc}", file=sys.stderr)
        return exc.status


if __name__ == "__main__":
    raise SystemExit(main())
