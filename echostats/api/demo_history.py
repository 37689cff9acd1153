"""Demo mode: the demo listener's past, imported the way a person imports theirs.

At the first demo sign-in the app downloads the listener's privacy export from the simulator
(``GET /account/privacy/export``, with the listener's access token, as a logged-in browser)
into an upload directory and queues it for the importer exactly as
``POST /api/v1/history/import`` would: same checks, same job, same progress events. The
dashboard is full within seconds, and the import's progress shows on it live.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path

import anyio
import httpx

from actors.facade import Pipeline
from actors.import_source import inspect_upload
from echostats.errors import EchoStatsError
from echostats.spotify.auth import TokenKeeper

log = logging.getLogger(__name__)

EXPORT_PATH = "/account/privacy/export"
EXPORT_NAME = "my_spotify_data.zip"


class DemoHistory:
    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: TokenKeeper,
        accounts_url: str,
        pipeline: Pipeline,
        uploads: Path,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._export_url = f"{accounts_url.rstrip('/')}{EXPORT_PATH}"
        self._pipeline = pipeline
        self._uploads = uploads

    async def import_for(self, user_id: str) -> str | None:
        """Download and queue the export; returns the import job's id (None when it failed:
        the demo then simply starts without a past, and the log says why)."""
        workdir = self._uploads / uuid.uuid4().hex
        try:
            await anyio.Path(workdir).mkdir(parents=True, mode=0o700)
            archive = workdir / EXPORT_NAME
            token = await self._tokens.access_token(user_id)
            headers = {"Authorization": f"Bearer {token}"}
            async with self._http.stream("GET", self._export_url, headers=headers) as got:
                got.raise_for_status()
                async with await anyio.open_file(archive, "wb") as out:
                    async for chunk in got.aiter_bytes():
                        await out.write(chunk)
            upload = await anyio.to_thread.run_sync(inspect_upload, [(EXPORT_NAME, archive)])
            return await self._pipeline.submit_import(user_id, upload, workdir)
        except (httpx.HTTPError, OSError, EchoStatsError) as exc:
            log.warning("the demo history could not be imported", extra={"error": str(exc)})
            await anyio.to_thread.run_sync(lambda: shutil.rmtree(workdir, ignore_errors=True))
            return None
