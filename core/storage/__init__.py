"""goalpath's storage and sealing infrastructure, under the application.

Where a store lives (:mod:`~goalpath.core.storage.locations`), the database
drivers' settings, the master and per-client keys, the mapper that encrypts
and chains every record, the recorders that keep each stream's sealed head,
the integrity check, the transcodings of value objects, and the fast paths
past eventsourcing internals with the version guard that switches them off.

It imports the domain (for the transcodings of its value objects), never the
application service.
"""
