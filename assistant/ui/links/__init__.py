"""The Links tab's downloads (`exports`) and person timeline (`person`); the tab itself is `ui.links_tab`."""
