"""Links across cases: identifier extraction and index, access-controlled look-up, link chart, timelines."""
