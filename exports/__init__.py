"""Exporters: goalpath's records in other systems' formats (FHIR R5/R4B) and progress charts.

They read events through :class:`~goalpath.core.application.GoalpathApp`, read
models through :mod:`goalpath.projections`, and instruments through the plugin
registry; nothing here is a read model.
"""

from goalpath.exports.fhir import export_client, export_episode, validate_bundle

__all__ = ["export_client", "export_episode", "validate_bundle"]
