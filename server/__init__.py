"""goalpath serve: the goalpath API over HTTP, with bearer-token authentication.

:func:`create_app` builds the ASGI application (FastAPI) from
:class:`ServerSettings`; ``goalpath serve`` runs it with uvicorn, and a host
can mount it in its own ASGI application. See docs/serving.md.
"""

from goalpath.server.app import ROUTE_MODULES, GoalpathServer, create_app
from goalpath.server.settings import ClaimNames, ServerSettings

__all__ = ["ROUTE_MODULES", "ClaimNames", "GoalpathServer", "ServerSettings", "create_app"]
