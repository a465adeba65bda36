"""Edge layer: the Flask HTTP API, the embeddable map and the ``tanlu`` CLI."""
