"""goalpath over HTTP: the goalpath API and a FHIR REST interface, for hosts in any language.

An ASGI application (FastAPI on Starlette, served by uvicorn) that
``goalpath serve`` runs and a host can mount inside its own ASGI app.
docs/serving.md describes it.
"""
