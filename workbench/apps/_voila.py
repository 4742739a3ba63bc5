"""Voila for the workbench: one more route, and pages made without compiling templates again.

``python -m workbench.apps._voila ...`` takes Voila's own options plus
``--WorkbenchVoila.handouts_dir=DIR``. Files under ``DIR`` are then served at
``/workbench/handouts/<path>``, to a logged-in user only (the analyst token's cookie), with the
handout file types only, never a hidden file (a file still being written is hidden:
``.name.part``) and never anything outside ``DIR``. Voila's own ``/voila/files/`` route serves
the notebooks' folder without asking for the token, so it is not used for handouts.

Voila makes every page with a new nbconvert exporter, whose new Jinja environment parses and
compiles the page's templates again: most of the server's time when thirty leaders come at
once. :class:`WorkbenchVoila` gives those environments one bytecode cache, owned by the
server and keyed by each template's source (a changed template is compiled again).
"""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web
from traitlets import Unicode
from voila import notebook_renderer
from voila.app import Voila
from voila.exporter import VoilaExporter

__all__ = ["HANDOUTS_ROUTE", "HANDOUT_TYPES", "HandoutFileHandler", "TemplateCache",
           "exporter_with", "WorkbenchVoila", "main"]

#: Where the handouts are served, below the server's base URL.
HANDOUTS_ROUTE = "workbench/handouts/"
#: The file types a handout is written in (and ``skipped.csv``), with their MIME types.
HANDOUT_TYPES = {
    ".html": "text/html; charset=UTF-8",
    ".pdf": "application/pdf",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv; charset=UTF-8",
}


class HandoutFileHandler(JupyterHandler, web.StaticFileHandler):
    """Files of the handouts folder, for a logged-in user: handout types only, nothing hidden,
    nothing outside the folder (tornado's own check, plus no part that starts with a dot)."""

    def _check(self, path: str) -> None:
        parts = Path(path).parts
        if not parts or any(part.startswith(".") for part in parts):
            raise web.HTTPError(404)
        if Path(path).suffix.lower() not in HANDOUT_TYPES:
            raise web.HTTPError(404)

    @web.authenticated
    def head(self, path: str):
        self._check(path)
        return super().head(path)

    @web.authenticated
    def get(self, path: str, include_body: bool = True):
        self._check(path)
        suffix = Path(path).suffix.lower()
        if suffix in (".pptx", ".xlsx", ".csv"):
            self.set_header("Content-Disposition",
                            f'attachment; filename="{Path(path).name}"')
        return super().get(path, include_body)

    def get_content_type(self) -> str:
        return HANDOUT_TYPES.get(Path(self.absolute_path or "").suffix.lower(),
                                 "application/octet-stream")

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-cache")  # a handout made again is new
        self.set_header("X-Content-Type-Options", "nosniff")

    def compute_etag(self):
        return None


class TemplateCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory for the server's life (a few dozen at most: the
    template files of the workbench, lab and base templates)."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


def exporter_with(cache: jinja2.BytecodeCache) -> type[VoilaExporter]:
    """Voila's exporter whose Jinja environment uses ``cache``."""

    class CachedExporter(VoilaExporter):
        def _create_environment(self):
            environment = super()._create_environment()
            environment.bytecode_cache = cache
            return environment

    return CachedExporter


class WorkbenchVoila(Voila):
    """Voila plus the handouts route (when ``handouts_dir`` is set) and a template cache."""

    handouts_dir = Unicode("", config=True,
                           help="Folder whose handouts are served at /workbench/handouts/.")

    def start(self):
        # Voila's page renderer makes its exporter by this module-level name
        notebook_renderer.VoilaExporter = exporter_with(TemplateCache())
        return super().start()

    def init_handlers(self) -> list:
        handlers = super().init_handlers()
        if self.handouts_dir:
            folder = os.path.abspath(self.handouts_dir)
            os.makedirs(folder, mode=0o700, exist_ok=True)
            route = url_path_join(self.server_url, HANDOUTS_ROUTE, "(.*)")
            # before Voila's own routes: a single notebook's server catches every path
            handlers.insert(0, (route, HandoutFileHandler, {"path": folder}))
        return handlers


def main() -> None:  # pragma: no cover - the server's entry point
    WorkbenchVoila.launch_instance()


if __name__ == "__main__":  # pragma: no cover
    main()
