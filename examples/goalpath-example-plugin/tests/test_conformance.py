"""The plugin passes goalpath's conformance kit, and is installed under its entry point."""

import goalpath_example_plugin

from goalpath.modalities.testing import PluginContract


class TestActPlugin(PluginContract):
    """Every check of the kit, run on this plugin."""

    plugin = goalpath_example_plugin
    plugin_name = "act"
    entry_point_installed = True
